from django.apps import AppConfig


class GiftCardsConfig(AppConfig):
    """Gift cards (issue 26): codes with a balance, spent at checkout as part payment through a
    ledger of transactions taken under the card's row lock; refunds return to the card."""

    name = "giftcards"
    verbose_name = "Gift cards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import emails  # noqa: F401 - registers the outbox kind "giftcards.card_email"
