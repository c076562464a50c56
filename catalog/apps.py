from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Categories, products, variants, stock, images, reviews and search."""

    name = "catalog"
