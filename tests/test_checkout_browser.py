"""Checkout and the order confirmation in Debian's Chromium (issue 23), on a phone (390x844) and a
desktop (1280x900), with a real slice of the Luma catalogue and the `test` payment provider: the
order summary is beside every step on a desktop and one tap away above the form on a phone, the
progress shows where the shopper is, a postcode that is not of the country is refused on its field,
the journey ends on a confirmation page with the paid order, its lines and its address written as
the country writes it, and no page is wider than the screen.

Screenshots of each step go to $ISHOP_SCREENSHOTS when it is set (docs/screenshots/ for the README),
else to the test's temporary folder."""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from orders.models import Order
from tests.test_theme_browser import DESKTOP, PHONE, add_hoodie_to_cart, themed_page

ADDRESS = {"email": "ada@example.com", "name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postcode": "SW1Y 4JH", "country": "United Kingdom"}


def shots(tmp_path: Path) -> Path:
    """Where this run's screenshots go."""
    return Path(os.environ["ISHOP_SCREENSHOTS"]) if os.environ.get("ISHOP_SCREENSHOTS") else tmp_path


def assert_fits(page: Page, width: int) -> None:
    """Nothing on the page reaches past the screen's right edge: no sideways scroll, and no element
    of the main content wider than the screen (the body clips overflow, so both are checked)."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide at {width}px"
    wide = page.evaluate("""width => [...document.querySelectorAll('main *')]
        .filter(el => el.getClientRects().length && el.getBoundingClientRect().right > width + 1)
        .map(el => el.tagName + '.' + el.className + ': ' + Math.round(el.getBoundingClientRect().right))""", width)
    assert wide == [], f"{page.url}: wider than {width}px: {wide[:5]}"


def expect_summary_shown(page: Page, *, phone: bool) -> None:
    """The order summary lists the hoodie with its photo and the total: on a desktop at once, on a
    phone after one tap on its toggle above the form."""
    summary = page.locator(".order-summary")
    line = summary.locator(".summary-line").filter(has_text="Chaz Kangeroo Hoodie")
    if phone:
        toggle = summary.locator("summary")
        box = toggle.bounding_box()
        form_top = page.locator(".checkout-main").bounding_box()["y"]
        assert box["y"] < form_top, "on a phone the summary comes before the form"
        expect(line).to_be_hidden()
        expect(toggle).to_contain_text("Order summary")
        toggle.click()
    else:
        aside, main = page.locator(".checkout-aside").bounding_box(), page.locator(".checkout-main").bounding_box()
        assert aside["x"] >= main["x"] + main["width"] - 1, "on a desktop the summary is beside the form"
    expect(line).to_be_visible()
    expect(line.locator("img")).to_be_visible()
    expect(summary.locator("[data-order-total]")).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_guest_checks_out_beside_the_order_summary(luma_slice, browser, asgi_live_server, viewport, tmp_path):
    phone, width = viewport is PHONE, viewport["width"]
    out = shots(tmp_path)
    page = themed_page(browser, asgi_live_server, viewport)
    add_hoodie_to_cart(page)

    # Step 2 of 4: details. A London postcode typed as a US ZIP is refused on the postcode field.
    page.goto("/checkout/")
    steps = page.get_by_role("navigation", name="Checkout progress")
    expect(steps.locator("[aria-current=step]")).to_contain_text("Details")
    expect_summary_shown(page, phone=phone)
    expect(page.locator("[data-summary-shipping]")).to_have_text("$5.00")  # the first method until one is chosen
    expect(page.locator(".order-summary [data-order-total]")).to_have_text("$57.00")
    assert_fits(page, width)
    page.screenshot(path=out / f"checkout-details-{width}.jpg", quality=75, full_page=True)
    page.get_by_label("Email").fill(ADDRESS["email"])
    page.get_by_label("Full name").fill(ADDRESS["name"])
    page.get_by_label("Country").select_option(label=ADDRESS["country"])
    page.get_by_label("Address line 1").fill(ADDRESS["line1"])
    page.get_by_label("City").fill(ADDRESS["city"])
    page.get_by_label("Postcode / ZIP").fill("90210")
    page.get_by_role("radio", name=re.compile(r"^Express delivery")).check()
    page.get_by_role("button", name="Continue to review").click()
    postcode = page.locator(".field").filter(has=page.get_by_label("Postcode / ZIP"))
    expect(postcode.locator(".error")).to_have_text(re.compile(r"not a valid postcode for United Kingdom"))
    expect(page.locator(".order-summary [data-order-total]")).to_have_text("$67.00")  # express, as chosen
    assert_fits(page, width)
    page.screenshot(path=out / f"checkout-details-error-{width}.jpg", quality=75, full_page=True)
    page.get_by_label("Postcode / ZIP").fill(ADDRESS["postcode"].lower())
    page.get_by_role("button", name="Continue to review").click()

    # Step 3: review and pay, the address as Britain writes it (town, then postcode, upper-cased).
    expect(page.get_by_role("heading", level=1, name="Review your order")).to_be_visible()
    expect(steps.locator("[aria-current=step]")).to_contain_text("Review and pay")
    expect(page.locator(".postal-address")).to_have_text(re.compile(r"London\s*SW1Y 4JH\s*United Kingdom"))
    expect_summary_shown(page, phone=phone)
    assert_fits(page, width)
    page.screenshot(path=out / f"checkout-review-{width}.jpg", quality=75, full_page=True)
    page.get_by_role("button", name="Place order and continue to payment ($67.00)").click()

    # The test provider's page, then the confirmation (the provider's webhook marked it paid).
    expect(page.get_by_role("heading", level=1, name="Test payment")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", level=1, name="Thank you for your order")).to_be_visible()
    number = page.locator("[data-order-number]").inner_text().strip()
    expect(steps.locator("[aria-current=step]")).to_contain_text("Confirmation")
    expect(page.locator("[data-payment-state]")).to_have_text("Paid")
    summary = page.locator(".order-summary")
    expect(summary.locator(".summary-line")).to_contain_text("Chaz Kangeroo Hoodie")
    expect(summary.locator("[data-order-total]")).to_have_text("$67.00")
    expect(page.locator(".postal-address")).to_contain_text("SW1Y 4JH")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(page.locator("[data-guest-link]")).to_be_visible()
    expect(page.get_by_role("link", name="Create an account")).to_be_visible()
    page.wait_for_load_state("load")
    assert_fits(page, width)
    page.screenshot(path=out / f"confirmation-{width}.jpg", quality=75, full_page=True)
    page.context.close()

    order = Order.objects.get(number=number)
    assert (order.status, order.shipping_postcode, order.shipping_country) == (Order.Status.PAID, "SW1Y 4JH", "GB")


@pytest.mark.browser
def test_the_confirmation_says_processing_until_the_payment_is_confirmed(luma_slice, browser, asgi_live_server):
    page = themed_page(browser, asgi_live_server, PHONE)
    add_hoodie_to_cart(page)
    page.goto("/checkout/")
    page.get_by_label("Email").fill(ADDRESS["email"])
    page.get_by_label("Full name").fill("Homer Simpson")
    # Only countries with states or provinces show the field; the postcode shows the country's pattern.
    page.get_by_label("Country").select_option(label="United Kingdom")
    expect(page.get_by_label("State / province / county")).to_be_hidden()
    expect(page.get_by_label("Postcode / ZIP")).to_have_attribute("placeholder", "e.g. EC1Y 8SY")
    page.get_by_label("Country").select_option(label="United States")
    expect(page.get_by_label("State / province / county")).to_be_visible()
    page.get_by_label("Address line 1").fill("742 Evergreen Terrace")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Postcode / ZIP").fill("62701")
    page.get_by_role("button", name="Continue to review").click()
    region = page.locator(".field").filter(has=page.get_by_label("State / province / county"))
    expect(region.locator(".error")).to_have_text("Enter the state.")
    page.get_by_label("State / province / county").fill("Illinois")
    page.get_by_role("button", name="Continue to review").click()
    expect(page.locator(".postal-address")).to_contain_text("Springfield, IL 62701")
    page.get_by_role("button", name=re.compile(r"^Place order")).click()
    expect(page.get_by_role("heading", level=1, name="Test payment")).to_be_visible()

    # The shopper comes back before the provider has said anything: "processing", not "paid".
    order = Order.objects.get()
    page.goto(f"/checkout/confirmation/{order.number}/")
    expect(page.get_by_role("heading", level=1, name="Payment processing")).to_be_visible()
    expect(page.locator("[data-payment-state]")).to_have_text("Processing")
    expect(page.get_by_role("link", name="Back to the payment page")).to_be_visible()
    assert_fits(page, PHONE["width"])
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_customer_s_order_page_shows_the_payment(luma_slice, browser, asgi_live_server, viewport, tmp_path):
    from accounts.models import User

    User.objects.create_user(email="ann@example.com", password="a-long-test-password-42")
    width = viewport["width"]
    page = themed_page(browser, asgi_live_server, viewport)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill("a-long-test-password-42")
    page.get_by_role("button", name="Log in").click()
    add_hoodie_to_cart(page)
    page.goto("/checkout/")
    page.get_by_label("Full name").fill("Ann Buyer")
    page.get_by_label("Country").select_option(label="Canada")
    page.get_by_label("Address line 1").fill("111 Wellington Street")
    page.get_by_label("City").fill("Ottawa")
    page.get_by_label("State / province / county").fill("Ontario")
    page.get_by_label("Postcode / ZIP").fill("K1A 0A9")
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_role("button", name=re.compile(r"^Place order")).click()
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("link", name="View this order in your account").click()

    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Order IS-"))).to_be_visible()
    expect(page.locator("[data-payment-state]")).to_have_text("Paid")
    expect(page.locator("[data-payment-reference]")).not_to_be_empty()
    expect(page.locator(".postal-address")).to_contain_text("Ottawa ON K1A 0A9")
    expect(page.locator(".order-summary [data-order-total]")).to_have_text("$57.00")
    assert_fits(page, width)
    page.screenshot(path=shots(tmp_path) / f"account-order-{width}.jpg", quality=75, full_page=True)
    page.goto("/account/orders/")
    assert_fits(page, width)
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_without_javascript_the_summary_is_still_beside_or_above_the_form(luma_slice, browser, asgi_live_server,
                                                                          viewport):
    page = themed_page(browser, asgi_live_server, viewport, javascript=False)
    page.goto("/p/chaz-kangeroo-hoodie/")
    page.get_by_role("group", name="Size").get_by_text("M", exact=True).click()
    page.get_by_role("group", name="Colour").get_by_text("Gray", exact=True).click()
    page.get_by_role("button", name="Add to cart").click()
    page.goto("/checkout/")
    expect_summary_shown(page, phone=viewport is PHONE)
    assert_fits(page, viewport["width"])
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_voucher_in_the_cart_is_priced_in_the_checkout_summary(luma_slice, browser, asgi_live_server, viewport,
                                                                 tmp_path):
    """Issue 26 in issue 23's checkout: SPRING10 typed in the cart takes 10 % off, and the review's
    order summary shows the engine's line discount, discount, UK VAT, total and explanation."""
    from decimal import Decimal

    from promotions.models import TaxRate, Voucher
    TaxRate.objects.create(country="GB", tax_class="standard", rate=Decimal("0.20"), name="VAT")
    Voucher.objects.create(code="SPRING10", kind=Voucher.Kind.PERCENTAGE, value=Decimal("10"))
    phone, width = viewport is PHONE, viewport["width"]
    out = shots(tmp_path)
    page = themed_page(browser, asgi_live_server, viewport)
    add_hoodie_to_cart(page)
    page.goto("/cart/")
    page.get_by_label("Voucher code").fill("spring10")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Voucher SPRING10 applied.")).to_be_visible()
    expect(page.locator("[data-order-discount]")).to_have_text("−$5.20")
    assert_fits(page, width)
    page.screenshot(path=out / f"cart-voucher-{width}.jpg", quality=75, full_page=True)

    page.goto("/checkout/")
    page.get_by_label("Email").fill(ADDRESS["email"])
    page.get_by_label("Full name").fill(ADDRESS["name"])
    page.get_by_label("Country").select_option(label=ADDRESS["country"])
    page.get_by_label("Address line 1").fill(ADDRESS["line1"])
    page.get_by_label("City").fill(ADDRESS["city"])
    page.get_by_label("Postcode / ZIP").fill(ADDRESS["postcode"])
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", level=1, name="Review your order")).to_be_visible()
    expect_summary_shown(page, phone=phone)
    summary = page.locator(".order-summary")
    expect(summary.locator("[data-line-discount]")).to_have_text("−$5.20 10% SPRING10")
    expect(summary.locator("[data-order-discount]")).to_have_text("−$5.20")
    expect(summary.locator("[data-order-tax]")).to_have_text("$10.36")  # 20 % VAT on $46.80 + $5.00
    expect(summary.locator("[data-order-total]")).to_have_text("$62.16")
    expect(summary.locator("[data-price-explanation]")).to_contain_text("SPRING10")
    assert_fits(page, width)
    page.screenshot(path=out / f"checkout-review-voucher-{width}.jpg", quality=75, full_page=True)
    page.context.close()
