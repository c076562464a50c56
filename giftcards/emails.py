"""The gift card email: the code of a card bought with an order, sent to the buyer once through the
outbox (kind "giftcards.card_email", payload {"card_id"}), written by giftcards.services.issue_for_order
in the transaction that marks the order paid."""
from outbox.registry import handles
from shop.mail import send_templated_email

from .models import GiftCard


@handles("giftcards.card_email")
def card_email(*, card_id: int) -> None:
    """Outbox handler: email gift card `card_id`'s code and value to its recipient (nothing when
    the card or its recipient is gone)."""
    card = GiftCard.objects.select_related("source_order").filter(pk=card_id).first()
    if card is not None and card.recipient_email:
        send_templated_email(to=card.recipient_email, template="gift_card", context={"card": card})
