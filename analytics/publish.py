"""Putting the imported order history's products on sale (`import_orders --publish-stock N`).

The importer (analytics.importer) files every StockCode as a hidden product with no stock: the
history is a record of what was sold, not a catalogue. A shop whose history it is, or a demo that
shows recommendations for those products and their buyers (`make demo`), publishes them: the
products and their "Online Retail" categories become visible, and variants with no stock get
`stock` units (the history holds no stock levels, so the figure is the caller's).
"""
from django.db import transaction
from django.db.models import Q

from catalog import listing_cache, versions
from catalog.models import Category, Product, Variant
from catalog.search.documents import refresh_search_documents
from shop.sources import Source

from .importer import CATEGORY_NAME


@transaction.atomic
def publish_products(*, stock: int) -> int:
    """Make the imported history's hidden products visible, their categories too, and give each
    of their active variants without stock `stock` units (>= 1). Returns how many products were
    published (and made findable by search). Raises ValueError for a `stock` below 1."""
    if stock < 1:
        raise ValueError(f"stock must be at least 1, not {stock}")
    hidden = list(Product.objects.filter(source=Source.ONLINE_RETAIL, is_visible=False).values_list("pk", flat=True))
    Product.objects.filter(pk__in=hidden).update(is_visible=True)
    refresh_search_documents(product_ids=hidden)  # the import wrote none: bulk writes send no signal
    Variant.objects.filter(product__source=Source.ONLINE_RETAIL, is_active=True, stock__lte=0).update(stock=stock)
    root = Category.objects.filter(name=CATEGORY_NAME, depth=1).first()
    if root is not None:
        Category.objects.filter(Q(path=root.path) | Q(path__startswith=root.path + "/")).update(is_visible=True)
    transaction.on_commit(listing_cache.bump, robust=True)  # bulk updates send no signal
    versions.invalidate_catalog_on_commit()
    return len(hidden)
