from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Cart, checkout, orders and payments."""

    name = "orders"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (merges the guest cart at login)
