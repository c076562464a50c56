from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Support chat (issue 29): shoppers and staff over /ws/chat/ and /ws/staff/chat/."""

    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the outbox handlers and the login signal."""
        from . import emails, signals  # noqa: F401  (outbox handlers; the guest conversation follows login)
