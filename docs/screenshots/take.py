"""Screenshots of the storefront for the README (issue 23): home, category, product, cart, search
and wishlist at a phone's 390x844 and a desktop's 1280x900, plus the open mega-menu, filter drawer
and mini-cart.

Run against a shop with the Luma demo catalogue (make demo, then a server), e.g.
    .venv/bin/python docs/screenshots/take.py http://127.0.0.1:8000
Uses Debian's Chromium (/usr/bin/chromium) through Playwright; writes JPEGs beside this file.
"""
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent
PAGES = {"home": "/", "category": "/c/men/tops/", "product": "/p/chaz-kangeroo-hoodie/", "cart": "/cart/",
         "search": "/search/?q=jacket", "wishlist": "/accounts/wishlist/"}
VIEWPORTS = {390: 844, 1280: 900}


def settle(page) -> None:
    """Scroll to the bottom and back so lazy images load, then wait for the network."""
    page.evaluate("""async () => { for (let y = 0; y < document.body.scrollHeight; y += 600) {
        window.scrollTo(0, y); await new Promise(r => setTimeout(r, 60)); } window.scrollTo(0, 0); }""")
    page.wait_for_load_state("networkidle")


def main(base: str) -> None:
    """Take every screenshot of the shop at `base`."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        for width, height in VIEWPORTS.items():
            page = browser.new_context(viewport={"width": width, "height": height}, base_url=base).new_page()
            page.goto(PAGES["product"])
            page.get_by_role("group", name="Size").get_by_text("M", exact=True).click()
            page.get_by_role("group", name="Colour").get_by_text("Orange", exact=True).click()
            page.screenshot(path=OUT / f"product-orange-{width}.jpg", quality=75)
            page.get_by_role("button", name="Add to cart").click()
            for product in ("/p/chaz-kangeroo-hoodie/", "/p/breathe-easy-tank/"):
                page.goto(product)
                page.get_by_role("button", name="Add to wishlist").click()
            for name, path in PAGES.items():
                page.goto(path)
                settle(page)
                page.screenshot(path=OUT / f"{name}-{width}.jpg", quality=75, full_page=True)
            page.goto("/")
            page.locator("[data-mini-cart-open]").click()
            page.get_by_role("complementary", name="Your cart").get_by_role("link", name="Checkout").wait_for()
            page.screenshot(path=OUT / f"mini-cart-{width}.jpg", quality=75)
            page.goto(PAGES["category"])
            if width < 960:
                page.get_by_text("Filters", exact=True).first.click()
                page.wait_for_timeout(400)
                page.screenshot(path=OUT / f"filters-drawer-{width}.jpg", quality=75)
            else:
                page.get_by_role("navigation", name="Categories").get_by_role("link", name="Men", exact=True).hover()
                page.screenshot(path=OUT / f"mega-menu-{width}.jpg", quality=75)
            page.context.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
