"""Gift cards in Debian's Chromium (issue 26), on a phone (390x844) and a desktop (1280x900), with
a real slice of the Luma catalogue: a code typed in the cart is checked in place by htmx (a clear
reason for one that cannot pay, the card and its balance for one that can), the review's order
summary shows "Gift card ****1234 −$20.00" and "To pay", and without JavaScript the same form posts
and comes back with the reason. Screenshots go to $ISHOP_SCREENSHOTS when set."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from giftcards.services import issue_card
from tests.test_checkout_browser import ADDRESS, assert_fits, shots
from tests.test_theme_browser import DESKTOP, PHONE, add_hoodie_to_cart, themed_page


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_gift_card_in_the_cart_pays_part_of_the_order(luma_slice, browser, asgi_live_server, viewport, tmp_path):
    issue_card(amount=Decimal("20.00"), code="GIFT-TEST-1234")
    width, out = viewport["width"], shots(tmp_path)
    page = themed_page(browser, asgi_live_server, viewport)
    add_hoodie_to_cart(page)
    page.goto("/cart/")
    page.get_by_label("Gift card code").fill("nope-0000")
    page.get_by_role("button", name="Add gift card").click()
    expect(page.locator("#gift-card-outcome")).to_have_text("NOPE-0000 is not a valid gift card code.")
    page.get_by_label("Gift card code").fill("gift test 1234")
    page.get_by_role("button", name="Add gift card").click()
    expect(page.locator("#gift-card-outcome")).to_contain_text("Gift card ****1234 added")
    expect(page.locator('[data-gift-card="****1234"]')).to_contain_text("balance $20.00")
    assert_fits(page, width)
    page.screenshot(path=out / f"cart-gift-card-{width}.jpg", quality=75, full_page=True)

    page.goto("/checkout/")
    page.get_by_label("Email").fill(ADDRESS["email"])
    page.get_by_label("Full name").fill(ADDRESS["name"])
    page.get_by_label("Country").select_option(label=ADDRESS["country"])
    page.get_by_label("Address line 1").fill(ADDRESS["line1"])
    page.get_by_label("City").fill(ADDRESS["city"])
    page.get_by_label("Postcode / ZIP").fill(ADDRESS["postcode"])
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", level=1, name="Review your order")).to_be_visible()
    summary = page.locator(".order-summary")
    if viewport is PHONE:
        summary.locator("summary").click()
    expect(summary.locator("[data-order-total]")).to_have_text("$57.00")  # unchanged: a card is a payment
    expect(summary.locator('[data-gift-card="****1234"]')).to_have_text("−$20.00")
    expect(summary.locator("[data-to-pay]")).to_have_text("$37.00")
    expect(page.get_by_role("button", name="Place order and continue to payment ($37.00)")).to_be_visible()
    assert_fits(page, width)
    page.screenshot(path=out / f"checkout-review-gift-card-{width}.jpg", quality=75, full_page=True)
    page.context.close()


@pytest.mark.browser
def test_without_javascript_the_gift_card_form_posts_and_says_why(luma_slice, browser, asgi_live_server):
    issue_card(amount=Decimal("5.00"), code="EURO-5555", currency="EUR")
    page = themed_page(browser, asgi_live_server, PHONE, javascript=False)
    add_hoodie_to_cart(page)
    page.goto("/cart/")
    page.get_by_label("Gift card code").fill("EURO-5555")
    page.get_by_role("button", name="Add gift card").click()
    expect(page.get_by_text("Gift card ****5555 is in EUR; this shop charges in USD.")).to_be_visible()
    page.context.close()
