"""The project app: home page, probes, metrics, operations commands."""
from django.apps import AppConfig


class ShopConfig(AppConfig):
    """Connects the Celery metrics when Django starts."""

    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from . import observability  # the orders-placed counter connects on import

        observability.connect_celery_metrics()
