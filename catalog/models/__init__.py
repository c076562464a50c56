"""Catalogue: a category tree, products, their variants (the things with a SKU and stock),
product images and reviews; one module each (catalogue, images, reviews).

Money is `Decimal` in `settings.SHOP_CURRENCY`. Stock is a whole number of units that the
database itself keeps at zero or above. The selling price has one rule: selling_price() in the
database, Variant.unit_price in Python.
"""
from .catalogue import (
    SALE_PRICE_ERROR, SALE_REASON, Category, Product, ProductQuerySet, TaxClass, Variant, VariantQuerySet,
    promotion_in, selling_price,
)
from .images import (
    ProductImage, ProductImageQuerySet, Rendition, RenditionFile, _stable_url, attach_renditions, media_url,
    product_image_path,
)
from .reviews import Review, ReviewQuerySet

__all__ = [
    "SALE_PRICE_ERROR", "SALE_REASON", "Category", "Product", "ProductImage", "ProductImageQuerySet", "ProductQuerySet", "Rendition",
    "RenditionFile", "Review", "ReviewQuerySet", "TaxClass", "Variant", "VariantQuerySet", "attach_renditions",
    "media_url", "product_image_path", "promotion_in", "selling_price",
]

from ..former_slugs import FormerSlug  # noqa: E402,F401  (registered with the app)
from ..search.models import SearchDocument  # noqa: E402,F401  (catalog.search's room; registered with the app)
