from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Payments (issue 25): Stripe and the embedded `test` provider, webhooks, refunds, ledger."""

    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import handlers  # noqa: F401 - registers the outbox kinds
