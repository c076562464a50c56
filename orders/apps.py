from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Cart, checkout, orders and payments."""

    name = "orders"

    def ready(self) -> None:
        from . import emails, signals  # noqa: F401  (outbox handlers; merges the guest cart at login)
