"""The project app: home page, probes, metrics, operations commands."""
from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from django.middleware import csrf

        from . import observability  # the orders-placed counter connects on import
        from .security import new_csrf_string

        observability.connect_celery_metrics()
        csrf._get_new_csrf_string = new_csrf_string  # one urandom call per token, not 32 (shop.security)
