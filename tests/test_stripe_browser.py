"""Issue 25 in Chromium against the fake Stripe (payments/tests/fake_stripe.py on 127.0.0.1):
checkout -> Stripe's hosted page (the fake's; no card field on ours) -> return to the confirmation
page ("Payment processing" until the webhook) -> the signed webhook -> paid. Screenshots of the
review, confirmation and test-provider pages at 390 and 1280 px go to tmp_path."""
import copy
import re

import pytest
from playwright.sync_api import Page, expect

from catalog.models import Variant
from orders.models import Order
from payments.tests.conftest import WEBHOOK_SECRET
from payments.tests.fake_stripe import FakeStripe
from tests.conftest import fill_checkout_address

SKU = "MH01-M-Gray"


@pytest.fixture
def stripe_fake(settings):
    """The fake Stripe, and settings (inherited by the forked live server) that use it."""
    fake = FakeStripe(WEBHOOK_SECRET).start()
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_fake", WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.base
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(fake.base)
    settings.CONTENT_SECURITY_POLICY = policy
    yield fake
    fake.stop()


def shoot(page: Page, path, name: str) -> None:
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=path / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def buy(page: Page, product_url: str) -> None:
    page.goto(product_url)
    page.get_by_role("group", name="Size").get_by_text("M", exact=True).click()
    page.get_by_role("group", name="Colour").get_by_text("Gray", exact=True).click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart/$"))
    page.get_by_role("link", name="Checkout").click()
    fill_checkout_address(page, email="ada@example.com", name="Ada Lovelace", line1="12 St James's Square",
                          city="London", postcode="SW1Y 4JH", country="United Kingdom")
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", level=1, name="Review your order")).to_be_visible()
    expect(page.get_by_label("Card number")).to_have_count(0)


@pytest.mark.browser
def test_checkout_pays_on_stripes_hosted_page_and_the_webhook_marks_it_paid(
        stripe_fake, luma_slice, asgi_live_server, page: Page, browser_problems, tmp_path):
    stripe_fake.webhook_url = f"{asgi_live_server.url}/payments/stripe/webhook/"
    buy(page, Variant.objects.get(sku=SKU).product.get_absolute_url())
    shoot(page, tmp_path, "review")
    page.get_by_role("button", name=re.compile(r"^Place order and continue to payment")).click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(stripe_fake.base)}/pay/cs_test_"))  # the hosted page
    order = Order.objects.get()
    assert order.status == Order.Status.PENDING_PAYMENT
    page.go_back()  # the shopper comes back before paying: the order waits, nothing paid
    page.goto(f"/checkout/confirmation/{order.number}/")
    expect(page.get_by_role("heading", level=1, name="Payment processing")).to_be_visible()
    shoot(page, tmp_path, "confirmation-pending")
    page.get_by_role("link", name="Back to the payment page").click()
    page.get_by_role("button", name="Pay").click()  # the fake posts the signed webhook, then redirects

    expect(page).to_have_url(re.compile(rf"/checkout/confirmation/{order.number}/$"))
    page.reload()  # the webhook was answered before the redirect; a real one may come later
    expect(page.get_by_role("heading", level=1, name="Thank you for your order")).to_be_visible()
    shoot(page, tmp_path, "confirmation-paid")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.payments.get().status == "succeeded"
    assert browser_problems == []


@pytest.mark.browser
def test_the_test_providers_page(luma_slice, page: Page, browser_problems, tmp_path):
    buy(page, Variant.objects.get(sku=SKU).product.get_absolute_url())
    page.get_by_role("button", name=re.compile(r"^Place order and continue to payment")).click()
    expect(page.get_by_role("heading", level=1, name="Test payment")).to_be_visible()
    shoot(page, tmp_path, "test-provider")
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("heading", level=1, name="Payment not completed")).to_be_visible()
    expect(page.get_by_text("The payment did not go through")).to_be_visible()
    shoot(page, tmp_path, "confirmation-declined")
    page.get_by_role("button", name="Try the payment again").click()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", level=1, name="Thank you for your order")).to_be_visible()
    assert Order.objects.get().status == Order.Status.PAID
    assert browser_problems == []
