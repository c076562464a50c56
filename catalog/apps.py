from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Categories, products, variants, stock, images, reviews and search."""

    name = "catalog"

    def ready(self) -> None:
        # Issue 5: cached API listings go stale when anything they show is saved or deleted.
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from . import listing_cache, models

        for model in (models.Product, models.Variant, models.Category, models.ProductImage, models.Rendition):
            post_save.connect(listing_cache.catalogue_changed, sender=model, dispatch_uid=f"listing-{model.__name__}")
            post_delete.connect(listing_cache.catalogue_changed, sender=model,
                                dispatch_uid=f"listing-del-{model.__name__}")
        m2m_changed.connect(listing_cache.catalogue_changed, sender=models.Product.categories.through,
                            dispatch_uid="listing-categories")
