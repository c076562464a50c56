from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outgoing webhooks (issue 28): events written with the change that caused them, delivered
    signed and retried to integrators' endpoints."""

    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import emails, signals  # noqa: F401 - the outbox kind "webhooks.endpoint_disabled"; product events
