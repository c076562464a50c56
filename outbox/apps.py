from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Outbox messages: what must happen after a commit, relayed to Celery and done once."""

    name = "outbox"
    default_auto_field = "django.db.models.BigAutoField"
