from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Categories, products, variants, stock, images, reviews and search."""

    name = "catalog"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from . import listing_cache, versions
        from .models import Category, Product, ProductImage, Rendition, Review, Variant
        from .search.documents import connect_signals

        connect_signals()  # search documents follow the catalogue

        # Edits that change what pages show besides stock and price (names, descriptions, photos,
        # reviews, the category tree) drop every cached page; stock and price changes drop only the
        # pages that show them (catalog.services).
        def drop_cached_pages(sender, **kwargs):
            versions.invalidate_catalog_on_commit()

        for model in (Category, Product, ProductImage, Review):
            post_save.connect(drop_cached_pages, sender=model, dispatch_uid=f"pagecache-save-{model.__name__}")
            post_delete.connect(drop_cached_pages, sender=model, dispatch_uid=f"pagecache-delete-{model.__name__}")
        # Cached API listings (listing_cache) go stale when anything they show is saved or deleted.
        for model in (Product, Variant, Category, ProductImage, Rendition):
            post_save.connect(listing_cache.catalogue_changed, sender=model, dispatch_uid=f"listing-{model.__name__}")
            post_delete.connect(listing_cache.catalogue_changed, sender=model,
                                dispatch_uid=f"listing-del-{model.__name__}")
        m2m_changed.connect(listing_cache.catalogue_changed, sender=Product.categories.through,
                            dispatch_uid="listing-categories")
