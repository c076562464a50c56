"""The catalogue import's plan: what each CSV row becomes, worked out before anything is written,
and what is already in the database."""
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.models import Category, Product, ProductImage, Variant

from .reading import Counts, Record


@dataclass
class Offer:
    """A simple row, parsed: what becomes a Variant."""

    record: Record
    sku: str
    attributes: dict[str, str | list[str]]
    price: Decimal
    sale_price: Decimal | None
    stock: int
    weight: Decimal | None = None  # kg per unit (Magento's `weight`), for weight-based shipping


@dataclass
class VariantPlan:
    """One variant of a planned product: its row, parsed, and its size and colour."""

    offer: Offer
    size: str
    colour: str


@dataclass
class ProductPlan:
    """One product to import: its own row and the variants that go with it."""

    record: Record  # the configurable parent or the standalone simple product
    variants: list[VariantPlan]


@dataclass
class ExistingRows:
    """Rows already in the database, fetched once, by their import keys."""

    products: dict[str, Product]
    variants: dict[str, Variant]
    categories: dict[str, Category]
    product_categories: dict[int, set[int]]
    images: dict[tuple[int, str], ProductImage]
    slug_owners: dict[str, str]  # slug -> product SKU


@dataclass
class ProductResult:
    """What importing one product did: counts, row errors, and whether the product changed."""

    variants: Counts = field(default_factory=Counts)
    images: Counts = field(default_factory=Counts)
    errors: list[tuple[int, str]] = field(default_factory=list)
    product_created: bool = False
    product_changed: bool = False
