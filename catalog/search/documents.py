"""Keeping the stored search documents current: `refresh_search_documents` rebuilds them from the
catalogue, and `connect_signals` (called by catalog.apps) calls it when a product, variant,
category or a product's category links change. Bulk writes send no signals: whoever writes in
bulk (the catalogue import) calls `refresh_search_documents` itself.
"""
from collections.abc import Iterable

from django.contrib.postgres.search import SearchVector
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import SearchDocument
from .text import build_document

CONFIG = "simple"  # the words are already cut and folded (catalog.search.text): no stemming, no stop words
# Variant and product fields that no document holds: saving only these leaves documents alone.
_NOT_SEARCHED = {"stock", "price", "sale_price", "position", "updated_at", "rating_average", "rating_count",
                 "seo_title", "seo_description", "is_visible"}


def document_vector() -> SearchVector:
    """The tsvector of a document's stored texts: name (A), keywords (B), body (D)."""
    return (SearchVector("name_text", weight="A", config=CONFIG) + SearchVector("keywords", weight="B", config=CONFIG)
            + SearchVector("body", weight="D", config=CONFIG))


def document_fields(product, variants: Iterable, category_names: Iterable[str]) -> dict:
    """The stored fields of `product`'s document (catalog.search.text.build_document); `variants`
    have sku, colour and size. Used by the backfill migration too, with historical models."""
    variants = list(variants)
    values = [value for values in product.attributes.values()
              for value in (values if isinstance(values, list) else [values])] if product.attributes else []
    return build_document(
        name=product.name,
        skus=[product.sku, *(variant.sku for variant in variants)],
        keywords=[*(variant.colour for variant in variants), *(variant.size for variant in variants),
                  *category_names, *map(str, values)],
        body=[product.short_description, product.description],
    )


def refresh_search_documents(*, product_ids: Iterable[int], models=None, only_existing: bool = False) -> None:
    """Rebuild the search documents of the products in `product_ids` (ids of deleted products are
    passed over; with `only_existing`, so are products without a document). `models` (Product,
    Variant, SearchDocument) are the historical models when a migration calls this; by default
    the current ones."""
    if models is None:
        from catalog.models import Product, Variant
        models = (Product, Variant, SearchDocument)
    product_model, variant_model, document_model = models
    ids = set(product_ids)
    if only_existing:
        ids = set(document_model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if not ids:
        return
    products = product_model.objects.filter(pk__in=ids).prefetch_related("categories")
    variants: dict[int, list] = {}
    for variant in variant_model.objects.filter(product_id__in=ids).only("product_id", "sku", "colour", "size"):
        variants.setdefault(variant.product_id, []).append(variant)
    documents = [
        document_model(product_id=product.pk,
                       **document_fields(product, variants.get(product.pk, []),
                                         [category.name for category in product.categories.all()]))
        for product in products
    ]
    document_model.objects.bulk_create(documents, update_conflicts=True, unique_fields=["product"],
                                       update_fields=["name_text", "keywords", "body", "updated_at"])
    if connection.vendor == "postgresql":
        document_model.objects.filter(pk__in=[document.product_id for document in documents]).update(
            vector=document_vector())


def _searched_fields_changed(kwargs) -> bool:
    fields = kwargs.get("update_fields")
    return fields is None or not set(fields) <= _NOT_SEARCHED


def _product_saved(sender, instance, **kwargs):
    if _searched_fields_changed(kwargs):
        refresh_search_documents(product_ids=[instance.pk])


def _variant_saved(sender, instance, **kwargs):
    if _searched_fields_changed(kwargs):
        refresh_search_documents(product_ids=[instance.product_id])


def _variant_deleted(sender, instance, **kwargs):
    # Deleting a product deletes its variants and its document, in either order: never bring back
    # a document that is already gone.
    refresh_search_documents(product_ids=[instance.product_id], only_existing=True)


def _category_saved(sender, instance, **kwargs):
    refresh_search_documents(product_ids=instance.products.values_list("pk", flat=True))


_clearing: dict[int, list[int]] = {}  # category pk -> its products, between pre_clear and post_clear


def _categories_linked(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:  # product.categories.add/remove/set/clear(...)
        if action in ("post_add", "post_remove", "post_clear"):
            refresh_search_documents(product_ids=[instance.pk])
    elif action == "pre_clear":  # category.products.clear(): which products lose it, known only before
        _clearing[instance.pk] = list(sender.objects.filter(category=instance).values_list("product_id", flat=True))
    elif action == "post_clear":
        refresh_search_documents(product_ids=_clearing.pop(instance.pk, []))
    elif action in ("post_add", "post_remove"):
        refresh_search_documents(product_ids=pk_set)


def connect_signals() -> None:
    """Refresh documents when products, variants, categories or category links change."""
    from catalog.models import Category, Product, Variant

    post_save.connect(_product_saved, sender=Product, dispatch_uid="search-product")
    post_save.connect(_variant_saved, sender=Variant, dispatch_uid="search-variant")
    post_delete.connect(_variant_deleted, sender=Variant, dispatch_uid="search-variant-delete")
    post_save.connect(_category_saved, sender=Category, dispatch_uid="search-category")
    m2m_changed.connect(_categories_linked, sender=Product.categories.through, dispatch_uid="search-categories")
