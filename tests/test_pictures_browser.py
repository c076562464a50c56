"""Product pictures in Debian's Chromium: the browser picks a WebP rendition from the srcset, the
photo's box has its final shape before a byte of it arrives (no layout shift), and an image that
fails to load is replaced by the neutral placeholder (shop.js), also one added after the page
loaded. Runs on a real slice of the Luma catalogue with renditions made by the worker's service."""
import re
import shutil

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from catalog import services
from catalog.models import Product, ProductImage

PLACEHOLDER_PREFIX = "data:image/svg+xml,"
# Waited for with locator assertions: page.wait_for_function(string) evals, which the CSP refuses.
IS_LOADED = re.compile(r"(^|\s)is-loaded(\s|$)")
IS_BROKEN = re.compile(r"(^|\s)is-broken(\s|$)")

# Sum of the page's layout-shift entries (what Core Web Vitals calls CLS), buffered since load.
LAYOUT_SHIFT = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 200);
})"""


def processed_hoodie() -> tuple[Product, list[ProductImage]]:
    """The Luma hoodie with renditions made for every image (the import sends jobs; with a broker
    no worker runs here, so make them directly; on the eager default this finds them made)."""
    for image_id in ProductImage.objects.values_list("pk", flat=True):
        outcome = services.process_product_image(image_id=image_id)
        assert outcome.status in {"processed", "skipped"}, outcome
    hoodie = Product.objects.get(sku="MH01")
    images = list(ProductImage.objects.with_renditions().filter(product=hoodie).order_by("position", "pk"))
    assert len(images) >= 3 and all(image.is_ready for image in images)
    return hoodie, images


def image_state(page: Page, selector: str) -> dict:
    return page.locator(selector).evaluate("""img => ({
        currentSrc: img.currentSrc, complete: img.complete, naturalWidth: img.naturalWidth,
        classes: [...img.classList], sources: img.parentElement.querySelectorAll("source").length,
        srcset: img.getAttribute("srcset"), background: getComputedStyle(img).backgroundImage,
        width: img.getBoundingClientRect().width, height: img.getBoundingClientRect().height})""")


@pytest.mark.browser
def test_product_page_serves_webp_with_no_layout_shift(luma_slice, page: Page, browser_problems):
    hoodie, images = processed_hoodie()
    main = images[0]

    # Hold every media request: the page lays out with no photo bytes at all.
    held, released = [], []

    def hold(route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route("**/media/**", hold)
    page.goto(f"/p/{hoodie.slug}/", wait_until="domcontentloaded")
    expect(page.locator("img.main-image")).to_be_visible()
    before = image_state(page, "img.main-image")
    assert not before["complete"] or before["naturalWidth"] == 0
    assert before["height"] > 300
    assert before["width"] / before["height"] == pytest.approx(main.width / main.height, rel=0.01)
    # Meanwhile the blurred placeholder (LQIP) is the image's background.
    assert before["background"].startswith('url("data:image/webp;base64,')

    assert held, "the photos should have been asked for"
    released.append(True)
    for route in held:
        route.continue_()
    page.wait_for_load_state("load")
    expect(page.locator("img.main-image")).to_have_class(IS_LOADED)
    after = image_state(page, "img.main-image")

    # A 1280 px wide window: the main image is 604 px wide ((1248 - 40)/2), so the 640 px WebP is the one to take.
    assert after["currentSrc"].endswith(".webp"), after["currentSrc"]
    assert re.search(rf"/media/renditions/{main.pk}/[\w-]+-640w\.[0-9a-f]{{16}}\.webp$", after["currentSrc"])
    # The browser sizes a srcset image by its slot from `sizes` (640 px file / density = slot):
    # that it equals the drawn width shows `sizes` matches the layout.
    assert after["naturalWidth"] == pytest.approx(after["width"], abs=1) == 604
    # Its box is the one laid out before any bytes came (within rounding: a rendition's height is
    # a whole number of pixels, so its shape differs from the original's by a fraction of one).
    assert after["width"] == before["width"] and after["height"] == pytest.approx(before["height"], abs=1)
    assert after["background"] == "none"  # the placeholder is gone once the photo is in
    assert page.evaluate(LAYOUT_SHIFT) == 0
    # The thumbnails took WebP too, the smallest (64 px slots). They load lazily, so possibly after
    # the main image: wait until each has picked its source.
    page.wait_for_function("() => [...document.querySelectorAll('.thumbs img')].every(img => img.currentSrc)")
    thumbs = page.locator(".thumbs img").evaluate_all("images => images.map(img => img.currentSrc)")
    assert len(thumbs) == len(images) and all(re.search(r"-320w\.[0-9a-f]{16}\.webp$", src) for src in thumbs)

    # A thumbnail shows its photo in the main slot, picked from its srcset for the main slot's size.
    page.locator("[data-gallery-thumb]").nth(2).click()
    expect(page.locator("img.main-image")).to_have_class(IS_LOADED)
    shown = image_state(page, "img.main-image")
    assert re.search(rf"/media/renditions/{images[2].pk}/[\w-]+-640w\.[0-9a-f]{{16}}\.webp$", shown["currentSrc"])
    assert browser_problems == []


@pytest.mark.browser
def test_an_image_that_fails_to_load_is_replaced_by_the_placeholder(luma_slice, page: Page, browser_problems):
    hoodie, images = processed_hoodie()
    lost = images[1]
    # The rendition files of the second photo are lost from storage: every candidate 404s.
    shutil.rmtree(settings.MEDIA_ROOT / "renditions" / str(lost.pk))

    page.goto(f"/p/{hoodie.slug}/")
    page.wait_for_load_state("load")
    broken = ".thumbs a:nth-child(2) img"
    expect(page.locator(broken)).to_have_class(IS_BROKEN)
    state = image_state(page, broken)
    assert state["currentSrc"].startswith(PLACEHOLDER_PREFIX)
    assert state["naturalWidth"] > 0  # the placeholder drew: no broken-image icon
    assert state["sources"] == 0 and state["srcset"] is None  # nothing left to retry the lost files
    assert state["width"] == 64 and state["height"] > 0
    # The other photos are untouched.
    assert image_state(page, "img.main-image")["currentSrc"].endswith(".webp")

    # An image added after the page loaded (an htmx swap, say) is covered too.
    page.evaluate("""() => {
        const img = document.createElement("img");
        img.id = "late"; img.alt = ""; img.width = 100; img.height = 124;
        img.src = "/media/products/no-such-photo.jpg";
        document.querySelector("main").append(img);
    }""")
    expect(page.locator("#late")).to_have_class(IS_BROKEN)
    assert image_state(page, "#late")["currentSrc"].startswith(PLACEHOLDER_PREFIX)

    # The only problems are the 404s of the two files that are really missing.
    expected = re.compile(rf"404.*\(http://[^)]*/media/(renditions/{lost.pk}/|products/no-such-photo\.jpg)")
    assert [problem for problem in browser_problems if not expected.search(problem)] == []
    assert browser_problems, "the missing files should have been asked for"
