"""Order emails: which status change sends which email, and the guest's signed order link.

Each email is an outbox message of kind "orders.order_email" ({"order_id", "event"}), written by
orders.services in the transaction that makes it due (place_order: confirmation; transition_order:
shipped, cancelled, refunded) and sent by `order_email` below, once, after commit (outbox).
"""
from django.conf import settings
from django.core import signing
from django.urls import reverse

from outbox.registry import handles
from shop.mail import absolute_url, send_templated_email

from giftcards.selectors import order_plan

from .models import Order

GUEST_LINK_SALT = "orders.guest-link"

# Email kind -> template name under templates/emails/.
ORDER_EMAILS = {
    "confirmation": "order_confirmation",
    Order.Status.FULFILLED: "order_shipped",
    Order.Status.CANCELLED: "order_cancelled",
    Order.Status.REFUNDED: "order_refunded",
}


def guest_order_token(order: Order) -> str:
    """A signed, timestamped token naming the order, for the link in its emails."""
    return signing.dumps(order.number, salt=GUEST_LINK_SALT)


def order_from_guest_token(token: str) -> str | None:
    """The order number in a token from `guest_order_token`, or None when the token is bad or
    older than settings.SHOP_GUEST_ORDER_LINK_MAX_AGE seconds."""
    try:
        return signing.loads(token, salt=GUEST_LINK_SALT, max_age=settings.SHOP_GUEST_ORDER_LINK_MAX_AGE)
    except signing.BadSignature:
        return None


def order_link(order: Order) -> str:
    """Absolute URL of the order's page for its emails: the account page for a customer's order,
    the signed guest link otherwise."""
    if order.customer_id:
        return absolute_url(order.get_absolute_url())
    return absolute_url(reverse("orders:guest_order", args=[guest_order_token(order)]))


def send_order_email(*, order: Order, kind: str) -> None:
    """Render and send the `kind` email (a key of ORDER_EMAILS) for `order` to its email address.
    Raises KeyError for an unknown kind; backend errors propagate (the outbox retries)."""
    template = ORDER_EMAILS[kind]
    send_templated_email(to=order.email, template=template, context={
        "order": order, "lines": list(order.lines.all()), "link": order_link(order),
        "gift_cards": order_plan(order)})


@handles("orders.order_email")
def order_email(*, order_id: int, event: str) -> None:
    """Outbox handler: send order `order_id`'s `event` email (a key of ORDER_EMAILS). A deleted
    order sends nothing."""
    order = Order.objects.filter(pk=order_id).first()
    if order is not None:
        send_order_email(order=order, kind=event)
