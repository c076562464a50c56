from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    """Product recommendations learnt from the catalogue and the order history (issue 27)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"
