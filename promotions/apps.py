from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    """Commerce rules priced by orders.pricing: tax rates, shipping zones and methods, vouchers."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "promotions"
