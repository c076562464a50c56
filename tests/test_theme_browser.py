"""The storefront's theme in Debian's Chromium (issue 23), on a phone (390x844) and a desktop
(1280x900), with a real slice of the Luma catalogue: no page scrolls sideways, a phone sees the
first product card without scrolling, choosing a colour shows that colour's photo, the header's
cart opens the mini-cart drawer, and the filter drawer opens without JavaScript."""
import re

import pytest
from playwright.sync_api import Page, expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
HOODIE = "/p/chaz-kangeroo-hoodie/"
PAGES = ["/", "/c/men/", HOODIE, "/cart/", "/search/?q=hoodie", "/accounts/wishlist/"]


def themed_page(browser, live_server, viewport, *, javascript: bool = True) -> Page:
    """A page in a fresh context of the given viewport on the live server."""
    context = browser.new_context(viewport=viewport, base_url=live_server.url, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    return context.new_page()


def add_hoodie_to_cart(page: Page) -> None:
    """Put one Chaz Kangeroo Hoodie (M, Gray) in the page's cart through the product page."""
    page.goto(HOODIE)
    page.get_by_role("group", name="Size").get_by_text("M", exact=True).click()
    page.get_by_role("group", name="Colour").get_by_text("Gray", exact=True).click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("[data-cart-count]")).to_have_text("1")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_page_scrolls_sideways(luma_slice, browser, asgi_live_server, viewport):
    page = themed_page(browser, asgi_live_server, viewport)
    add_hoodie_to_cart(page)  # the cart page with a line, its widest state
    page.goto(HOODIE)
    page.get_by_role("button", name="Add to wishlist").click()  # and a wishlist card
    expect(page.get_by_role("button", name="Move to cart")).to_be_visible()
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} is {width}px wide at {viewport['width']}px"
    page.context.close()


@pytest.mark.browser
def test_a_phone_sees_two_product_cards_side_by_side_above_the_fold(luma_slice, browser, asgi_live_server):
    page = themed_page(browser, asgi_live_server, PHONE)
    page.goto("/c/gear/")  # the bag
    first = page.locator(".product-card").first.bounding_box()
    assert first["y"] + first["height"] * 0.6 <= PHONE["height"], f"the first card starts too low: {first}"
    assert first["width"] < PHONE["width"] / 2, "phones show two cards a row"
    # The filters wait in a drawer until asked for (a label and a checkbox: no JavaScript).
    expect(page.get_by_role("button", name="Apply")).to_be_hidden()
    page.get_by_text("Filters", exact=True).first.click()
    expect(page.get_by_role("button", name="Apply")).to_be_visible()
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_choosing_a_colour_shows_that_colour_s_photo(luma_slice, browser, asgi_live_server, viewport):
    page = themed_page(browser, asgi_live_server, viewport)
    page.goto(HOODIE)
    main = page.locator("[data-gallery-main] img")
    before = main.get_attribute("src")
    page.get_by_role("group", name="Colour").get_by_text("Orange", exact=True).click()
    expect(main).not_to_have_attribute("src", before)
    shown = page.locator("[data-gallery-thumb]:visible").count()
    assert 0 < shown < page.locator("[data-gallery-thumb]").count(), "only that colour's thumbnails stay"
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_header_cart_opens_the_mini_cart(luma_slice, browser, asgi_live_server, viewport):
    page = themed_page(browser, asgi_live_server, viewport)
    add_hoodie_to_cart(page)
    page.goto("/")
    page.locator("[data-mini-cart-open]").click()
    drawer = page.get_by_role("complementary", name="Your cart")
    expect(drawer).to_be_visible()
    expect(drawer.get_by_role("link", name="Chaz Kangeroo Hoodie")).to_be_visible()
    expect(drawer.get_by_role("link", name="Checkout")).to_be_visible()
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    page.context.close()


@pytest.mark.browser
def test_without_javascript_the_cart_link_is_the_cart_page(luma_slice, browser, asgi_live_server):
    page = themed_page(browser, asgi_live_server, PHONE, javascript=False)
    page.goto("/")
    page.locator("[data-mini-cart-open]").click()
    expect(page.get_by_role("heading", level=1, name="Your cart")).to_be_visible()
    page.goto("/c/gear/")
    page.get_by_text("Filters", exact=True).first.click()
    expect(page.get_by_role("button", name="Apply")).to_be_visible()
    page.context.close()


@pytest.mark.browser
def test_a_filter_applies_at_once_and_shows_a_removable_chip(luma_slice, browser, asgi_live_server):
    page = themed_page(browser, asgi_live_server, DESKTOP)
    page.goto("/c/men/")
    page.get_by_role("group", name="Colour").get_by_label("Orange").check()  # no Apply click
    chip = page.get_by_role("link", name="Remove the colour filter")
    expect(chip).to_contain_text("Colour: Orange")
    expect(page).to_have_url(__import__("re").compile(r"colour=Orange"))
    expect(page.locator(".product-card")).to_have_count(1)
    chip.click()
    expect(page.get_by_role("link", name="Remove the colour filter")).to_have_count(0)
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_search_results_have_the_category_page_s_filters_and_they_apply_at_once(luma_slice, browser,
                                                                                asgi_live_server, viewport):
    page = themed_page(browser, asgi_live_server, viewport)
    page.goto("/search/?q=hoodie")
    if viewport is PHONE:  # in the drawer, as on a category page
        expect(page.get_by_role("button", name="Apply")).to_be_hidden()
        page.get_by_text("Filters", exact=True).first.click()
    page.get_by_role("group", name="Colour").get_by_label("Orange").check()
    expect(page.get_by_role("link", name="Remove the colour filter")).to_contain_text("Colour: Orange")
    expect(page).to_have_url(__import__("re").compile(r"q=hoodie.*colour=Orange|colour=Orange.*q=hoodie"))
    expect(page.locator(".product-card")).to_have_count(1)
    page.context.close()


@pytest.mark.browser
def test_a_size_selling_out_live_is_struck_out_and_back_in_stock_restored(luma_slice, browser, asgi_live_server):
    """The live stock script's updates (inventory.js raises `inventory:stock` for each pushed
    change) re-mark the size buttons: every XS selling out strikes XS out, a restock restores it."""
    page = themed_page(browser, asgi_live_server, DESKTOP)
    # The page's own catch-up read of live stock (inventory.js, when its socket opens) must be in
    # before the pushes below, or its real levels land after them and put XS back (seen in CI).
    with page.expect_response(lambda response: "/api/v1/inventory/" in response.url) as caught_up:
        page.goto(HOODIE)
    caught_up.value.finished()
    page.evaluate("() => new Promise(resolve => setTimeout(resolve, 100))")  # its JSON parsed and applied
    xs = page.get_by_role("group", name="Size").locator("label", has_text="XS")
    expect(xs).not_to_have_class(re.compile("unavailable"))
    push = """([size, stock]) => JSON.parse(document.getElementById("variant-data").textContent)
        .filter(v => v.size === size).forEach(v => document.dispatchEvent(new CustomEvent("inventory:stock",
            {detail: {variant: v.id, stock: stock, in_stock: stock > 0}})))"""
    page.evaluate(push, ["XS", 0])
    expect(xs).to_have_class(re.compile("unavailable"))
    expect(page.get_by_role("radio", name="XS (sold out)")).to_have_count(1)
    page.evaluate(push, ["XS", 5])
    expect(xs).not_to_have_class(re.compile("unavailable"))
    expect(page.get_by_role("radio", name="XS", exact=True)).to_have_count(1)
    page.context.close()
