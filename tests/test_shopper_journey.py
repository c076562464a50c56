"""End to end: a guest shopper buys a Chaz Kangeroo Hoodie (M, Gray) in Debian's Chromium.

The journey runs against daphne (tests/conftest.py) with a real slice of the Luma catalogue
(imported at run time from ../shared/data/luma with `import_catalog`), and then checks the database:
one order with the number the confirmation page showed, the right SKU, and stock taken.
"""
import re

import pytest
from playwright.sync_api import Page, expect

from catalog.models import Variant
from orders.models import Order

from tests.conftest import fill_checkout_address

PRODUCT = "Chaz Kangeroo Hoodie"
SKU = "MH01-M-Gray"
QUANTITY = 2
START_STOCK = 100  # what products.csv gives every Luma variant (see luma_slice)


def assert_images_loaded(page: Page) -> None:
    """No <img> on the page finished loading without pixels (a 404 or an unreadable file)."""
    broken = page.eval_on_selector_all(
        "img", "images => images.filter(img => img.complete && img.naturalWidth === 0).map(img => img.src)")
    assert broken == [], f"broken images on {page.url}: {broken}"


@pytest.mark.browser
def test_guest_buys_a_hoodie_from_the_home_page(luma_slice, page: Page, browser_problems, tmp_path):
    page.goto("/")
    expect(page.get_by_role("heading", name="Shop by category")).to_be_visible()

    # Home -> Men -> Tops -> Hoodies & Sweatshirts, through the links a shopper sees.
    page.get_by_role("navigation", name="Categories").get_by_role("link", name="Men", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Men")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Tops", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Tops")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Hoodies & Sweatshirts", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Hoodies & Sweatshirts")).to_be_visible()
    expect(page.locator(".result-count")).to_have_text("1 product")
    assert_images_loaded(page)

    # The product page: photos load, then size M and colour Gray picked by their labels.
    page.get_by_role("heading", name=PRODUCT).click()
    expect(page).to_have_url(re.compile(r"/p/[\w-]+/$"))
    expect(page.get_by_role("heading", level=1, name=PRODUCT)).to_be_visible()
    main_image = page.locator("img.main-image")
    expect(main_image).to_be_visible()
    page.wait_for_load_state("load")
    assert main_image.evaluate("img => img.complete && img.naturalWidth") > 0, "the product photo did not load"
    expect(page.get_by_role("button", name="Add to cart")).to_be_enabled()

    page.get_by_role("group", name="Size").get_by_text("M", exact=True).click()
    page.get_by_role("group", name="Colour").get_by_text("Gray", exact=True).click()
    expect(page.get_by_role("radio", name="M", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name="Gray", exact=True)).to_be_checked()
    expect(page.locator("[data-chosen-variant]")).to_contain_text(f"In stock SKU {SKU}")
    expect(page.locator("[data-price]")).to_have_text("$52.00")
    page.get_by_label("Quantity").fill(str(QUANTITY))
    page.screenshot(path=tmp_path / "product.png", full_page=True)
    assert_images_loaded(page)
    page.get_by_role("button", name="Add to cart").click()

    # The cart.
    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(page.get_by_role("status")).to_contain_text(f"Added {QUANTITY} x {PRODUCT}")
    line = page.locator(f'tr[data-sku="{SKU}"]')
    expect(line).to_contain_text(PRODUCT)
    expect(line.get_by_label("Quantity")).to_have_value(str(QUANTITY))
    expect(page.locator("[data-cart-count]")).to_have_text(str(QUANTITY))
    page.get_by_role("link", name="Checkout").click()

    # Checkout details as a guest.
    expect(page.get_by_role("heading", level=1, name="Checkout")).to_be_visible()
    expect(page.get_by_text("Checking out as a guest.")).to_be_visible()
    fill_checkout_address(page, email="ada@example.com", name="Ada Lovelace", line1="12 St James's Square",
                          city="London", postcode="SW1Y 4JH", country="United Kingdom")
    page.get_by_role("radio", name=re.compile(r"^Express delivery")).check()
    page.get_by_role("button", name="Continue to review").click()

    # Review and pay: 2 x $52.00 + $15.00 express shipping.
    expect(page.get_by_role("heading", level=1, name="Review your order")).to_be_visible()
    expect(page.locator("address")).to_contain_text("Ada Lovelace")
    line = page.locator(".order-summary .summary-line").filter(has_text=PRODUCT)  # the summary beside the step
    expect(line).to_contain_text("M / Gray")
    expect(line).to_be_visible()
    expect(page.get_by_label("Card number")).to_have_count(0)  # card data never reaches the shop
    page.get_by_role("button", name="Place order and continue to payment ($119.00)").click()

    # The test provider's hosted page (Stripe Checkout with STRIPE_SECRET_KEY set): no card field.
    expect(page.get_by_role("heading", level=1, name="Test payment")).to_be_visible()
    expect(page.locator("main input:not([type=hidden])")).to_have_count(0)  # nothing to type
    page.screenshot(path=tmp_path / "test-provider.png", full_page=True)
    page.get_by_role("button", name="Approve").click()

    # Confirmation (the webhook marked it paid).
    expect(page.get_by_role("heading", level=1, name="Thank you for your order")).to_be_visible()
    number = page.locator("[data-order-number]").inner_text().strip()
    assert number
    expect(page).to_have_url(re.compile(rf"/checkout/confirmation/{re.escape(number)}/$"))
    page.screenshot(path=tmp_path / "confirmation.png", full_page=True)
    assert_images_loaded(page)

    assert browser_problems == []

    # The database agrees with what the shopper saw.
    assert Order.objects.filter(number=number).count() == 1
    assert Order.objects.count() == 1  # one click, one order
    order = Order.objects.get(number=number)
    assert order.email == "ada@example.com"
    assert order.customer is None
    assert order.status == Order.Status.PAID
    assert order.shipping_country == "GB"
    assert order.shipping_method == "express"
    assert [(line.sku, line.quantity) for line in order.lines.all()] == [(SKU, QUANTITY)]
    assert str(order.total) == "119.00"
    assert Variant.objects.get(sku=SKU).stock == START_STOCK - QUANTITY
    assert set(Variant.objects.exclude(sku=SKU).values_list("stock", flat=True)) == {START_STOCK}
