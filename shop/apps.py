"""The project app: home page, probes, metrics, operations commands."""
from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from . import observability  # noqa: F401 - connects the orders-placed counter
