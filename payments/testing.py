"""Test helpers (used by the test suites of several apps): pay an order through the `test`
provider's signed-event path, as its page's "Approve" button does."""
from urllib.parse import urlencode

from django.urls import reverse

from orders import services as orders
from orders.models import Order

from . import services
from .money import to_minor
from .providers.stripe import verify_event
from .providers.test import signed_event, webhook_secret


def pay(order: Order, *, approve: bool = True) -> Order:
    """Start a PaymentIntent for pending `order` with the active provider and apply a signed
    payment_intent.succeeded (or .payment_failed) event for it; returns the order re-read (an
    order not pending is returned as it is)."""
    if order.status != Order.Status.PENDING_PAYMENT:
        return order
    payment = services.start_payment(order=order, flow="intent")
    obj = {"id": payment.intent_id, "object": "payment_intent", "amount": to_minor(payment.amount, payment.currency),
           "amount_received": to_minor(payment.amount, payment.currency) if approve else 0,
           "metadata": {"order_number": order.number, "payment_id": str(payment.pk)}}
    body, signature = signed_event("payment_intent.succeeded" if approve else "payment_intent.payment_failed", obj)
    services.apply_event(verify_event(body, signature, webhook_secret()), provider=payment.provider)
    return Order.objects.get(pk=order.pk)


def place_paid_order(**kwargs) -> Order:
    """orders.services.place_order with the `test` provider, then `pay`."""
    kwargs.pop("card_number", None)
    kwargs["payment_provider"] = "test"
    return pay(orders.place_order(**kwargs))


def press_on_test_page(client, url: str, action: str = "approve"):
    """Open the test provider's page at `url` and press "Approve" (or `action` "decline") as a
    browser does: its form posts the signed event to the webhook path (Django test client).
    Returns the response, followed (to the confirmation page)."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    fields = {**page.context["events"][action], "session": page.context["payment"].session_id}
    return client.post(reverse("payments:stripe_webhook"), urlencode(fields),
                       content_type="application/x-www-form-urlencoded", follow=True)


def approve_on_test_page(client, response):
    """Follow a checkout's redirect to the test provider's page and press "Approve" (Django test
    client); returns the final response (the confirmation page)."""
    location = response.redirect_chain[-1][0] if getattr(response, "redirect_chain", None) else response["Location"]
    assert "/payments/test/" in location, location
    return press_on_test_page(client, location)


def test_page_url(session_id: str) -> str:
    """The test provider's page of checkout session `session_id`."""
    return reverse("payments:test_page", args=[session_id])


def checkout_and_approve(client, idempotency_key: str, action: str = "approve"):
    """Press "Place order and continue to payment" on the review page with `idempotency_key`, then
    "Approve" (or `action` "decline") on the test provider's page (Django test client). Returns the final response,
    followed (its redirect chain ends at the confirmation page), or the placing response when it
    did not lead to the test page (an error)."""
    placed = client.post(reverse("orders:checkout_review"), {"idempotency_key": idempotency_key})
    if placed.status_code != 302 or "/payments/test/" not in placed["Location"]:
        return client.get(placed["Location"], follow=True) if placed.status_code == 302 else placed
    return press_on_test_page(client, placed["Location"], action)
