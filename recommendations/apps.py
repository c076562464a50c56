from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    """Product recommendations learnt from the catalogue and the order history (issue 27)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"

    def ready(self) -> None:
        """A merchandising rule saved or deleted makes the cached API answers stale (recommendations.answers)."""
        from django.db.models.signals import post_delete, post_save

        from . import answers
        from .models import Rule

        for signal in (post_save, post_delete):
            signal.connect(answers.changed, sender=Rule, dispatch_uid=f"recommendations-rule-{signal is post_save}")
