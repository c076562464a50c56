"""Country names as the UCI Online Retail file writes them, and their ISO 3166-1 alpha-2 codes.

Three names have no ISO country: "Channel Islands" (Jersey and Guernsey together) takes the
user-assigned code "XC", "European Community" the exceptionally reserved "EU", and "Unspecified"
(or any name not listed here) the user-assigned "ZZ". Source: ISO 3166-1 (user-assigned ranges
AA, QM-QZ, XA-XZ, ZZ; "EU" exceptionally reserved).
"""

FILE_NAME_TO_CODE: dict[str, str] = {
    "Australia": "AU", "Austria": "AT", "Bahrain": "BH", "Belgium": "BE", "Brazil": "BR", "Canada": "CA",
    "Channel Islands": "XC", "Cyprus": "CY", "Czech Republic": "CZ", "Denmark": "DK", "EIRE": "IE",
    "European Community": "EU", "Finland": "FI", "France": "FR", "Germany": "DE", "Greece": "GR",
    "Hong Kong": "HK", "Iceland": "IS", "Israel": "IL", "Italy": "IT", "Japan": "JP", "Lebanon": "LB",
    "Lithuania": "LT", "Malta": "MT", "Netherlands": "NL", "Norway": "NO", "Poland": "PL", "Portugal": "PT",
    "RSA": "ZA", "Saudi Arabia": "SA", "Singapore": "SG", "Spain": "ES", "Sweden": "SE", "Switzerland": "CH",
    "USA": "US", "United Arab Emirates": "AE", "United Kingdom": "GB", "Unspecified": "ZZ",
}
UNKNOWN = "ZZ"

# Display names for the dashboard: the file's names, spelled out where it abbreviates.
CODE_TO_NAME: dict[str, str] = {code: name for name, code in FILE_NAME_TO_CODE.items()}
CODE_TO_NAME.update({"IE": "Ireland", "ZA": "South Africa", "US": "United States", "ZZ": "Unknown"})


def country_code(file_name: str) -> str | None:
    """The code for a country name as written in the file, or None when the name is not known."""
    return FILE_NAME_TO_CODE.get(file_name.strip())


def country_name(code: str) -> str:
    """A display name for a country code ("GB" -> "United Kingdom"); the code itself if unknown."""
    return CODE_TO_NAME.get(code, code or "Unknown")
