from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Categories, products, variants, stock, images, reviews and search."""

    name = "catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import pagecache
        from .models import Category, Product, ProductImage, Review

        # Edits that change what pages show besides stock and price (names, descriptions, photos,
        # reviews, the category tree) drop every cached page; stock and price changes drop only the
        # pages that show them (catalog.services).
        def drop_cached_pages(sender, **kwargs):
            pagecache.invalidate_catalog_on_commit()

        for model in (Category, Product, ProductImage, Review):
            post_save.connect(drop_cached_pages, sender=model, dispatch_uid=f"pagecache-save-{model.__name__}")
            post_delete.connect(drop_cached_pages, sender=model, dispatch_uid=f"pagecache-delete-{model.__name__}")
