"""What both catalogue imports share: their reports, reading a CSV file into records that know
the line they start on, and parsing Magento's values (attributes, variations, money, stock,
category paths, HTML descriptions).
"""
import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import nh3

# --- Reports ---------------------------------------------------------------------------------


@dataclass
class Counts:
    """How many rows of one kind were created, updated, or skipped (already up to date)."""

    created: int = 0
    updated: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.skipped

    def add(self, other: "Counts") -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped


@dataclass
class CatalogImportReport:
    """What `import_catalog` did. `errors` holds (line, message) pairs, sorted by line."""

    products: Counts = field(default_factory=Counts)
    variants: Counts = field(default_factory=Counts)
    categories: Counts = field(default_factory=Counts)
    images: Counts = field(default_factory=Counts)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported_anything(self) -> bool:
        return self.products.total > 0


@dataclass
class ReviewImportReport:
    """What `import_reviews` did. `errors` holds (line, message) pairs, sorted by line."""

    reviews: Counts = field(default_factory=Counts)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported_anything(self) -> bool:
        return self.reviews.total > 0


class ImportFileError(Exception):
    """The file is missing, unreadable, or not in the expected CSV format."""


class RowError(Exception):
    """One value of a row is unusable; the message says which and why."""


# --- Reading CSV files -------------------------------------------------------------------------


@dataclass
class Record:
    """One CSV record: its fields by column name and the physical line it starts on."""

    line: int  # physical line on which the record starts
    fields: dict[str, str]

    def get(self, column: str) -> str:
        return (self.fields.get(column) or "").strip()

    @property
    def sku(self) -> str:
        return self.get("sku")


def read_records(
    *, path: Path, required_columns: Iterable[str], kind: str
) -> tuple[list[Record], list[tuple[int, str]]]:
    """Read an RFC 4180 CSV with a header row into records, each with the line it starts on.

    Returns (records, errors); a record with the wrong number of fields is an error, not a record.
    Raises ImportFileError when the file cannot be read or lacks one of `required_columns`.
    """
    records: list[Record] = []
    errors: list[tuple[int, str]] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            missing = [column for column in required_columns if column not in header]
            if missing:
                raise ImportFileError(f"{path} is not a {kind}: missing column(s) {', '.join(missing)}.")
            next_line = reader.line_num + 1
            for row in reader:
                line, next_line = next_line, reader.line_num + 1
                if not row:  # a blank line
                    continue
                if len(row) != len(header):
                    errors.append((line, f"expected {len(header)} fields, found {len(row)}"))
                    continue
                records.append(Record(line=line, fields=dict(zip(header, row))))
    except FileNotFoundError:
        raise ImportFileError(f"{path} does not exist.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFileError(f"Cannot read {path} as a UTF-8 CSV file: {exc}") from None
    return records, errors


# --- Parsing Magento values ---------------------------------------------------------------------

# Magento internals and Luma's merchandising flags: not product facts a shopper should read.
INTERNAL_ATTRIBUTES = {"has_options", "required_options", "new", "sale", "erin_recommends"}
NOT_VISIBLE = "Not Visible Individually"
ALLOWED_TAGS = {
    "p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "h2", "h3", "h4", "span", "a",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
MAX_PRICE = Decimal("100000000")  # Variant.price holds 10 digits, 2 after the point


def sanitise_html(html: str) -> str:
    """Keep common formatting tags and links; drop scripts, styles, event handlers and the rest."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES).strip()


def parse_attributes(text: str) -> dict[str, str | list[str]]:
    """`"material=Wool|Fleece,pattern=Solid"` -> `{"material": ["Wool", "Fleece"], "pattern": "Solid"}`.

    A piece without "=" continues the previous value (a value holding a comma). Magento's
    internal flags and Luma's merchandising flags (INTERNAL_ATTRIBUTES) are dropped.
    """
    pairs: list[list[str]] = []
    for piece in text.split(","):
        if "=" in piece:
            code, value = piece.split("=", 1)
            pairs.append([code.strip(), value])
        elif pairs:
            pairs[-1][1] += "," + piece
    attributes: dict[str, str | list[str]] = {}
    for code, value in pairs:
        if not code or code in INTERNAL_ATTRIBUTES:
            continue
        value = value.strip()
        attributes[code] = [part.strip() for part in value.split("|") if part.strip()] if "|" in value else value
    return attributes


def parse_variations(text: str) -> list[dict[str, str]]:
    """`"sku=A,size=XS,color=Black|sku=B,..."` -> `[{"sku": "A", "size": "XS", "color": "Black"}, ...]`."""
    variations = []
    for entry in text.split("|"):
        pairs = (piece.split("=", 1) for piece in entry.split(",") if "=" in piece)
        if variation := {code.strip(): value.strip() for code, value in pairs}:
            variations.append(variation)
    return variations


def parse_weight(text: str) -> Decimal | None:
    """Magento's `weight` column as kg with 3 places (None when empty); raises RowError for text
    that is not a number or is out of Variant.weight's range (below 0 or 100,000 kg and over)."""
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"unparseable weight {text!r}") from None
    if not value.is_finite() or not 0 <= value < 100_000:
        raise RowError(f"weight {text!r} is out of range")
    return value.quantize(Decimal("0.001"))


def parse_money(text: str, *, column: str, required: bool = False) -> Decimal | None:
    """A price column as a Decimal with 2 places (None when empty and not `required`); raises
    RowError for text that is not a number or is out of Variant.price's range."""
    if not text:
        if required:
            raise RowError(f"missing {column}")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"unparseable {column} {text!r}") from None
    if not value.is_finite() or not 0 <= value < MAX_PRICE:
        raise RowError(f"{column} {text!r} is out of range")
    return value.quantize(Decimal("0.01"))


def parse_stock(record: Record) -> int:
    """Units in stock from `qty`, 0 when `is_in_stock` is "0"; raises RowError for bad text."""
    text = record.get("qty")
    try:
        quantity = int(float(text)) if text else 0
    except (ValueError, OverflowError):
        raise RowError(f"unparseable qty {text!r}") from None
    return 0 if record.get("is_in_stock") == "0" else max(quantity, 0)


def parse_category_paths(text: str) -> list[tuple[str, ...]]:
    """Category names from the top for each listed path, without the root ("Default Category")."""
    paths = []
    for listed in text.split(","):
        names = tuple(name.strip() for name in listed.split("/") if name.strip())[1:]
        if names and names not in paths:
            paths.append(names)
    return paths


def update_fields(instance: object, values: dict) -> list[str]:
    """Set `values` on `instance`; return the names of the fields whose value changed."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    return changed
