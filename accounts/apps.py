from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Customers and staff: the custom user model that logs in with an email address, addresses,
    wishlists and staff roles."""

    name = "accounts"

    def ready(self) -> None:
        from . import emails, signals  # noqa: F401  (outbox handlers; wishlist merge at login, back in stock)
