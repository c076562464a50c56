"""Catalogue text as a shopper reads it: Magento's CSV keeps HTML entities in names, URL keys
and attribute values ("LumaTech&trade;", "&frac14; zip") and names attributes by code
("features_bags"). The importer passes every such value through here.
"""
import html
import re
import unicodedata

from django.utils.text import slugify

_SPACES = re.compile(r"\s+")
# Luma's attribute codes and the labels its storefront shows for them (Magento sample data);
# codes not listed get their own words, sentence case ("eco_collection" -> "Eco collection").
ATTRIBUTE_LABELS = {
    "features_bags": "Features",
    "strap_bags": "Strap/handle",
    "style_bags": "Style",
    "style_bottom": "Style",
    "style_general": "Style",
    "category_gear": "Category",
}


def plain_text(value: str) -> str:
    """`value` with HTML entities decoded and runs of white space made one space
    ("Logan  HeatTec&reg; Tee" -> "Logan HeatTec® Tee")."""
    return _SPACES.sub(" ", html.unescape(value)).strip()


def slug_text(value: str) -> str:
    """A slug for `value` (a name or a Magento URL key, entities and all): symbols such as ™ and
    ® dropped rather than spelled out ("Mars HeatTech&trade; Pullover" -> "mars-heattech-pullover")."""
    text = "".join(char for char in plain_text(value) if not unicodedata.category(char).startswith("S"))
    return slugify(text)


def attribute_label(code: str) -> str:
    """The shopper's label of a Magento attribute code ("features_bags" -> "Features")."""
    return ATTRIBUTE_LABELS.get(code) or code.replace("_", " ").strip().capitalize()


def labelled_attributes(attributes: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
    """Parsed attributes (catalog.importers.parse_attributes) keyed by label, values decoded
    (plain_text). Two codes with one label ("style_general", "style_bags") share one list."""
    labelled: dict[str, str | list[str]] = {}
    for code, value in attributes.items():
        label = attribute_label(code)
        value = [plain_text(part) for part in value] if isinstance(value, list) else plain_text(value)
        if label in labelled:
            merged = [*_as_list(labelled[label]), *_as_list(value)]
            labelled[label] = list(dict.fromkeys(merged))
        else:
            labelled[label] = value
    return labelled


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]
