"""The embedded `test` provider (make run): its page's Approve and Decline buttons post a signed,
Stripe-shaped event over HTTP to the webhook path, verified and applied by the webhook's own code."""
import json
import time
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from catalog.tests.factories import VariantFactory
from orders.models import Order
from payments.models import PaymentEvent
from payments.providers.test import sign, webhook_secret

pytestmark = pytest.mark.django_db
WEBHOOK = "/payments/stripe/webhook/"
ADDRESS = {"email": "gale@example.com", "shipping_name": "Gale Guest", "shipping_line1": "1 Main Street",
           "shipping_city": "Springfield", "shipping_postcode": "12345", "shipping_country": "US",
           "shipping_method": "standard"}


class Forms(HTMLParser):
    """The page's forms as a browser sees them: {button text: (method, action, {field: value})}."""

    def __init__(self, html: str):
        super().__init__()
        self.forms, self._form, self._button = {}, None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = (attrs.get("method", "get").lower(), attrs.get("action", ""), {})
        elif tag == "input" and self._form is not None:
            if attrs.get("name"):
                self._form[2][attrs["name"]] = attrs.get("value", "")
        elif tag == "button" and self._form is not None:
            self._button = ""

    def handle_data(self, data):
        if self._button is not None:
            self._button += data

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.forms[self._button.strip()], self._button = self._form, None
        elif tag == "form":
            self._form = None


@pytest.fixture
def test_page(client):
    """A guest's checkout up to the test provider's page; returns (page URL, its forms)."""
    variant = VariantFactory(stock=5, price=Decimal("52.00"))
    client.post(reverse("orders:cart_add"), {"product": variant.product_id, "variant": variant.pk, "quantity": 2})
    review = client.post(reverse("orders:checkout"), ADDRESS, follow=True)
    placed = client.post(reverse("orders:checkout_review"),
                         {"idempotency_key": review.context["form"]["idempotency_key"].value()})
    assert placed.status_code == 302 and placed["Location"].startswith("/payments/test/")
    page = client.get(placed["Location"])
    assert page.status_code == 200
    return placed["Location"], {button: form for button, form in Forms(page.content.decode()).forms.items()
                                if form[1] == WEBHOOK}


def press(client, form):
    method, action, fields = form
    assert method == "post"
    return client.post(action, urlencode(fields), content_type="application/x-www-form-urlencoded")


def test_approve_posts_a_signed_event_to_the_webhook_path_and_the_order_is_paid(client, test_page, mailoutbox,
                                                                                django_capture_on_commit_callbacks):
    _, forms = test_page
    assert set(forms) == {"Approve", "Decline"}  # the page's forms that post to the webhook path
    assert {name for form in forms.values() for name in form[2]} == {"payload", "signature", "session"}  # no card
    event = json.loads(forms["Approve"][2]["payload"])
    assert event["type"] == "checkout.session.completed" and forms["Approve"][2]["signature"].startswith("t=")

    with django_capture_on_commit_callbacks(execute=True):
        done = press(client, forms["Approve"])
    order = Order.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("orders:confirmation", args=[order.number])
    assert order.status == Order.Status.PAID and order.payments.get().totals()["charged"] == order.total
    assert "Thank you for your order" in client.get(done["Location"]).content.decode()
    assert PaymentEvent.objects.get().event_id == event["id"] and [m.to for m in mailoutbox] == [[ADDRESS["email"]]]
    # Pressed again (a double click, the back button): applied once, back to the same page.
    assert press(client, forms["Approve"])["Location"] == done["Location"]
    assert PaymentEvent.objects.count() == 1
    assert press(client, forms["Decline"]).status_code == 302  # a failure after the success
    assert Order.objects.get().status == Order.Status.PAID


def test_decline_shows_the_failure_and_a_retry(client, test_page):
    _, forms = test_page
    done = client.get(press(client, forms["Decline"])["Location"])
    assert "The payment did not go through: Your card was declined" in done.content.decode()
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT


def test_a_stale_or_tampered_page_changes_nothing_and_sends_the_shopper_back(client, test_page):
    url, forms = test_page
    method, action, fields = forms["Approve"]
    old = {**fields, "signature": sign(fields["payload"].encode(), webhook_secret(), int(time.time()) - 600)}
    back = client.post(action, urlencode(old), content_type="application/x-www-form-urlencoded", follow=True)
    assert back.redirect_chain[-1][0] == url and "open too long" in back.content.decode()
    cheaper = {**fields, "payload": fields["payload"].replace('"amount_total": 10900', '"amount_total": 1')}
    assert cheaper != fields
    assert press(client, (method, action, cheaper))["Location"] == url
    lost = {**fields, "session": "cs_nope", "signature": "t=1,v1=00"}
    refused = client.post(action, urlencode(lost), content_type="application/x-www-form-urlencoded")
    assert refused.status_code == 400 and refused.json()["code"] == "bad_signature"
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT and not PaymentEvent.objects.exists()


def test_the_page_only_shows_the_buttons_and_the_form_transport_is_the_test_providers(client, test_page, settings):
    url, forms = test_page
    assert client.post(url, {"action": "approve"}).status_code == 405  # nothing is applied by the page itself
    assert client.get(url.replace("/cs_", "/cs_x")).status_code == 404
    settings.STRIPE_SECRET_KEY = "sk_test_x"  # Stripe active: only its JSON transport, and no test page
    assert client.get(url).status_code == 404
    refused = press(client, forms["Approve"])
    assert refused.status_code == 400 and refused.json()["code"] == "bad_request"
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT
