from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Customers and staff: the custom user model that logs in with an email address."""

    name = "accounts"
