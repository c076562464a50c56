"""Live stock in Debian's Chromium: pages that are already open follow every stock change, with no reload.

Each test keeps a shopper's page open on daphne (tests/conftest.py) while the stock changes somewhere
else: a member of staff edits it in the admin (another browser context, logged in through the admin
login form), or a second shopper (a third context) buys the last unit through the normal checkout.
The change reaches the open page over /ws/inventory/ (catalog.services.broadcast_stock, through the
in-memory channel layer, or channels-redis when REDIS_URL is set) within about a second of the save:
the stock badge, the add-to-cart button and the product card on a category page follow it. When the
socket drops, the page says so, reconnects by itself and catches up on what it missed from
/api/v1/inventory/.
"""
import re
import time

import pytest
from playwright.sync_api import Page, expect

from catalog.models import Category, Product, Variant
from orders.models import Order

from tests.conftest import fill_checkout_address

HOODIE = "Chaz Kangeroo Hoodie"
HOODIE_SKU = "MH01"
VARIANT_SKU = "MH01-M-Gray"  # size M, colour Gray
BAG = "Joust Duffle Bag"
BAG_SKU = "24-MB01"  # a product with a single variant

LIVE_MS = 2_000  # expect() timeout for a live update: generous, the pushes themselves are checked below
LIVE_WITHIN_SECONDS = 1.0  # the "Done when": the open page hears of a change within a second of the save

# Runs in the shopper's pages before their own scripts: records every WebSocket the page opens (so
# that a test can drop the connection) and every stock message inventory.js hands to the page,
# with the time it arrived.
WATCH_LIVE_STOCK = """
(() => {
  const NativeWebSocket = window.WebSocket;
  const watch = window.__liveStock = { sockets: [], events: [] };
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) { super(...args); watch.sockets.push(this); }
  };
  document.addEventListener("inventory:stock", (event) => {
    watch.events.push(Object.assign({ receivedAt: Date.now() }, event.detail));
  });
})();
"""


def open_live(page: Page, url: str) -> None:
    """Go to `url`, wait until its live stock socket is connected, and mark the document, so that
    `assert_not_reloaded` can tell it is still the same one."""
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("data-live-stock", "online")
    page.evaluate("window.__sameDocument = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true"), f"{page.url} was reloaded or left"


def heard_within(page: Page, *, variant: Variant, stock: int, since: float) -> float:
    """Seconds from `since` (time.time()) until `page` got the stock message putting `variant` at
    `stock`, checked against LIVE_WITHIN_SECONDS. Waits up to LIVE_MS for the message (polling from
    here, not from the page, whose timers are throttled while it is a background tab)."""
    deadline = time.monotonic() + LIVE_MS / 1000
    while not (received_ms := page.evaluate(
            "([id, stock]) => (window.__liveStock.events.find(e => e.variant === id && e.stock === stock) || {})"
            ".receivedAt", [variant.pk, stock])):
        assert time.monotonic() < deadline, f"{page.url} never got a stock message for {variant.sku} at {stock}"
        page.wait_for_timeout(50)
    latency = received_ms / 1000 - since
    assert latency < LIVE_WITHIN_SECONDS, f"{variant.sku} at {stock} reached {page.url} after {latency:.2f} s"
    return latency


def choose(page: Page, *, size: str, colour: str) -> None:
    page.get_by_role("group", name="Size").get_by_text(size, exact=True).click()
    page.get_by_role("group", name="Colour").get_by_text(colour, exact=True).click()
    expect(page.get_by_role("radio", name=size, exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name=colour, exact=True)).to_be_checked()


def grid_badge(page: Page, variant: Variant):
    """The variant's badge in the "Availability by size and colour" table."""
    return page.locator(f'.availability .stock-badge[data-variant-id="{variant.pk}"]')


def card_stock(page: Page, product_name: str):
    """The stock line of a product card on a listing page."""
    return page.locator(".product-card").filter(has=page.get_by_role("heading", name=product_name)).locator(
        "[data-stock-variants]")


def set_stock_in_changelist(staff: Page, *, sku: str, stock: int) -> float:
    """Edit a variant's stock in the admin's variant list (list_editable) and save. Returns the
    time.time() of the click on Save."""
    staff.goto(f"/admin/catalog/variant/?q={sku}")
    row = staff.locator("#result_list tbody tr").filter(has=staff.get_by_role("link", name=sku, exact=True))
    row.locator('input[name$="-stock"]').fill(str(stock))
    clicked = time.time()
    staff.get_by_role("button", name="Save", exact=True).click()
    expect(staff.locator(".messagelist")).to_contain_text("1 variant was changed successfully.")
    return clicked


def set_stock_in_change_form(staff: Page, *, variant: Variant, stock: int) -> float:
    """Edit a variant's stock on its admin change form and save. Returns the time.time() of the
    click on Save."""
    staff.goto(f"/admin/catalog/variant/{variant.pk}/change/")
    staff.get_by_label("Stock:", exact=True).fill(str(stock))
    clicked = time.time()
    staff.get_by_role("button", name="Save", exact=True).click()
    expect(staff.locator(".messagelist")).to_contain_text("was changed successfully.")
    return clicked


def buy_as_guest(shopper: Page, *, product_url: str, size: str, colour: str) -> float:
    """Buy one unit of a product's size/colour through the cart and the guest checkout. Returns the
    time.time() of the click on "Place order"."""
    shopper.goto(product_url)
    choose(shopper, size=size, colour=colour)
    shopper.get_by_role("button", name="Add to cart").click()
    expect(shopper).to_have_url(re.compile(r"/cart/$"))
    shopper.get_by_role("link", name="Checkout").click()
    fill_checkout_address(shopper, email="grace@example.com", name="Grace Hopper", line1="1 Navy Yard",
                          city="Arlington", postcode="22202", country="United States", region="VA")
    shopper.get_by_role("button", name="Continue to review").click()
    clicked = time.time()  # placing the order takes the stock (held while the shopper pays)
    shopper.get_by_role("button", name=re.compile(r"^Place order and continue to payment")).click()
    shopper.get_by_role("button", name="Approve").click()  # the test provider's hosted page
    expect(shopper.get_by_role("heading", level=1, name="Thank you for your order")).to_be_visible()
    return clicked


@pytest.mark.browser
def test_staff_stock_edits_reach_an_open_product_page_without_reload(
        luma_slice, page: Page, staff_page: Page, browser_problems, tmp_path):
    variant = Variant.objects.get(sku=VARIANT_SKU)
    product = variant.product
    page.context.add_init_script(WATCH_LIVE_STOCK)
    open_live(page, product.get_absolute_url())
    # A second tab on the hoodies' category page: the card stays "In stock" while other sizes are.
    listing = page.context.new_page()
    open_live(listing, product.categories.get(name="Hoodies & Sweatshirts").get_absolute_url())
    expect(card_stock(listing, HOODIE)).to_have_text("In stock")
    page.bring_to_front()  # the listing stays open in a background tab (its timers are throttled)

    badge, button = grid_badge(page, variant), page.locator("[data-add-to-cart]")
    chosen = page.locator("[data-chosen-variant] .stock-badge")
    expect(badge).to_have_text("In stock")
    choose(page, size="M", colour="Gray")
    expect(chosen).to_have_text("In stock")
    expect(button).to_be_enabled()

    # Staff lower the stock to 1 in the variant list: the open page says so, still buyable.
    saved = set_stock_in_changelist(staff_page, sku=VARIANT_SKU, stock=1)
    expect(badge).to_have_text("Only 1 left", timeout=LIVE_MS)
    expect(chosen).to_have_text("Only 1 left", timeout=LIVE_MS)
    expect(button).to_be_enabled()
    heard_within(page, variant=variant, stock=1, since=saved)

    # Then to 0 on the variant's change form: sold out, and the button turns off.
    saved = set_stock_in_change_form(staff_page, variant=variant, stock=0)
    expect(badge).to_have_text("Sold out", timeout=LIVE_MS)
    expect(badge).to_have_class(re.compile(r"\bout\b"))
    expect(chosen).to_have_text("Sold out", timeout=LIVE_MS)
    expect(button).to_be_disabled(timeout=LIVE_MS)
    expect(button).to_have_text("Sold out")
    heard_within(page, variant=variant, stock=0, since=saved)
    # Gray is no longer available in M, and M no longer in Gray: struck through, and read out as sold out.
    expect(page.locator("label.option").filter(has=page.get_by_role("radio", name="M (sold out)", exact=True))) \
        .to_have_class(re.compile(r"\bunavailable\b"))
    expect(page.locator("label.option").filter(has=page.get_by_role("radio", name="Gray (sold out)", exact=True))) \
        .to_have_class(re.compile(r"\bunavailable\b"))

    # The listing heard it too, and the hoodie is still in stock in its 14 other variants.
    heard_within(listing, variant=variant, stock=0, since=saved)
    expect(card_stock(listing, HOODIE)).to_have_text("In stock")

    # Choosing another size still offers the hoodie.
    page.get_by_role("group", name="Size").get_by_text("L", exact=True).click()
    expect(chosen).to_have_text("In stock")
    expect(button).to_be_enabled()
    page.get_by_role("group", name="Size").get_by_text("M", exact=True).click()
    expect(button).to_be_disabled()

    page.screenshot(path=tmp_path / "product-live-sold-out.png", full_page=True)
    assert_not_reloaded(page)
    assert_not_reloaded(listing)
    assert browser_problems == []
    assert Variant.objects.get(pk=variant.pk).stock == 0


@pytest.mark.browser
def test_shopper_buying_the_last_unit_sells_it_out_on_another_shoppers_page(
        luma_slice, page: Page, open_page, browser_problems):
    """The issue's "Done when": two browsers on the same product; one buys the last item; the other's
    badge shows Sold out and its button turns off within a second, without a reload. The hoodie's
    card on the category page, whose last unit that was, turns to Sold out as well."""
    variant = Variant.objects.get(sku=VARIANT_SKU)
    product = variant.product
    Variant.objects.filter(product=product).exclude(pk=variant.pk).update(stock=0)
    Variant.objects.filter(pk=variant.pk).update(stock=1)  # the hoodie's last unit

    page.context.add_init_script(WATCH_LIVE_STOCK)
    open_live(page, product.get_absolute_url())
    listing = page.context.new_page()
    open_live(listing, product.categories.get(name="Hoodies & Sweatshirts").get_absolute_url())
    page.bring_to_front()  # the listing stays open in a background tab
    badge, button = grid_badge(page, variant), page.locator("[data-add-to-cart]")
    choose(page, size="M", colour="Gray")
    expect(badge).to_have_text("Only 1 left")
    expect(page.locator("[data-chosen-variant] .stock-badge")).to_have_text("Only 1 left")
    expect(button).to_be_enabled()
    card = card_stock(listing, HOODIE)
    expect(card).to_have_text("In stock")

    # A second shopper, in a browser context of their own, buys that last unit.
    ordered = buy_as_guest(open_page("second shopper"), product_url=product.get_absolute_url(), size="M", colour="Gray")

    expect(badge).to_have_text("Sold out", timeout=LIVE_MS)
    expect(page.locator("[data-chosen-variant] .stock-badge")).to_have_text("Sold out", timeout=LIVE_MS)
    expect(button).to_be_disabled(timeout=LIVE_MS)
    heard_within(page, variant=variant, stock=0, since=ordered)
    expect(card).to_have_text("Sold out", timeout=LIVE_MS)
    expect(card).to_have_class(re.compile(r"\bout\b"))
    heard_within(listing, variant=variant, stock=0, since=ordered)
    assert_not_reloaded(page)
    assert_not_reloaded(listing)
    assert browser_problems == []

    assert [(line.sku, line.quantity) for line in Order.objects.get().lines.all()] == [(VARIANT_SKU, 1)]
    assert Variant.objects.get(pk=variant.pk).stock == 0


@pytest.mark.browser
def test_page_shows_when_live_stock_is_offline_and_catches_up_after_reconnecting(
        luma_slice, page: Page, staff_page: Page, browser_problems):
    bag = Variant.objects.get(sku=BAG_SKU)
    page.context.add_init_script(WATCH_LIVE_STOCK)
    open_live(page, Product.objects.get(sku=BAG_SKU).get_absolute_url())
    listing = page.context.new_page()
    open_live(listing, Category.objects.get(name="Bags").get_absolute_url())
    page.bring_to_front()  # the listing stays open in a background tab
    # A product with one variant: its badge and button follow that variant directly.
    badge, button = page.locator(f'.stock-badge[data-variant-id="{bag.pk}"]'), page.locator("[data-add-to-cart]")
    indicator = page.locator(".live-indicator")
    expect(badge).to_have_text("In stock")
    expect(button).to_be_enabled()
    expect(indicator).to_be_hidden()

    # The network goes away and the connection with it: the page says live updates are paused,
    # and keeps trying to reconnect.
    page.context.set_offline(True)
    with page.expect_console_message(lambda message: "ERR_INTERNET_DISCONNECTED" in message.text):
        page.evaluate("window.__liveStock.sockets.at(-1).close()")
    expect(indicator).to_be_visible()
    expect(indicator).to_have_text("Live stock updates paused. Reconnecting\u2026")
    expect(page.locator("html")).to_have_attribute("data-live-stock", "offline")

    # Meanwhile staff take stock down to 3; the offline page cannot hear of it.
    set_stock_in_change_form(staff_page, variant=bag, stock=3)
    expect(badge).to_have_text("In stock")

    # Back online: the page reconnects by itself, hides the notice, and catches up from the
    # inventory snapshot (the broadcast it missed is gone).
    with page.expect_response(lambda response: "/api/v1/inventory/?variants=" in response.url, timeout=10_000):
        page.context.set_offline(False)
    expect(indicator).to_be_hidden()
    expect(page.locator("html")).to_have_attribute("data-live-stock", "online")
    expect(badge).to_have_text("Only 3 left")
    expect(button).to_be_enabled()

    # And it is live again: sold out at once, on the product page and on its category's card.
    saved = set_stock_in_changelist(staff_page, sku=BAG_SKU, stock=0)
    expect(badge).to_have_text("Sold out", timeout=LIVE_MS)
    expect(button).to_be_disabled(timeout=LIVE_MS)
    expect(button).to_have_text("Sold out")
    heard_within(page, variant=bag, stock=0, since=saved)
    expect(card_stock(listing, BAG)).to_have_text("Sold out", timeout=LIVE_MS)
    assert_not_reloaded(page)
    assert_not_reloaded(listing)

    # The only problems are the reconnection attempts that failed while the network was down.
    offline = [problem for problem in browser_problems
               if "/ws/inventory/" in problem and "ERR_INTERNET_DISCONNECTED" in problem]
    assert offline, "the page did not try to reconnect while offline"
    assert [problem for problem in browser_problems if problem not in offline] == []
