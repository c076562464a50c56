"""Every main page of the shop works under the Content-Security-Policy in Debian's Chromium: no CSP
violation (no blocked script, style, image, connection or form), no console error."""
import re

import pytest
from playwright.sync_api import Page, expect

from catalog.models import Product, Variant

from tests.conftest import fill_checkout_address

# Recorded by the browser itself, before any page script runs (Playwright's init scripts are not
# subject to the page's CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def page_cache_on(settings):
    """The page cache on in the live server (requested before it starts, so the child sees it)."""
    settings.SHOP_PAGE_CACHE_SECONDS = 300


def visit(page: Page, url: str, violations: list[str]):
    """Open `url`, check it carries the policy, let its scripts (and live stock socket) run, and
    collect the CSP violations the browser reported."""
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    page.wait_for_load_state("networkidle")
    violations.extend(f"{url}: {v}" for v in page.evaluate("window.__cspViolations"))
    return response


@pytest.mark.browser
def test_main_pages_have_no_csp_violations(page_cache_on, luma_slice, page: Page, staff_page: Page,
                                           browser_problems):
    page.context.add_init_script(RECORD_VIOLATIONS)
    staff_page.context.add_init_script(RECORD_VIOLATIONS)
    hoodie = Product.objects.get(sku="MH01")
    variant = Variant.objects.get(sku="MH01-M-Gray")
    violations: list[str] = []

    for url in ["/", "/c/men/", "/c/men/tops/hoodies-sweatshirts/", hoodie.get_absolute_url(),
                "/search/?q=hoodie", "/search/?q=hoodie&sort=price", "/accounts/login/", "/accounts/signup/"]:
        visit(page, url, violations)

    # The product page's scripts run: the picker follows the choice, the cart takes it. This time
    # the page comes from the page cache, with this browser's CSRF token put in.
    assert visit(page, hoodie.get_absolute_url(), violations).headers.get("x-page-cache") == "HIT"
    page.get_by_role("group", name="Size").get_by_text("M", exact=True).click()
    page.get_by_role("group", name="Colour").get_by_text("Gray", exact=True).click()
    expect(page.locator("[data-chosen-variant]")).to_contain_text(f"SKU {variant.sku}")
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart/$"))
    violations.extend(page.evaluate("window.__cspViolations"))
    visit(page, "/cart/", violations)
    visit(page, "/checkout/", violations)
    fill_checkout_address(page, email="csp@example.com", name="Cee Ess", line1="1 Policy Road", city="London",
                          postcode="SW1Y 4JH", country="United Kingdom")
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", level=1, name="Review your order")).to_be_visible()
    violations.extend(page.evaluate("window.__cspViolations"))

    for url in ["/staff/", "/staff/analytics/", "/admin/", "/admin/catalog/product/",
                f"/admin/catalog/product/{hoodie.pk}/change/", "/admin/catalog/variant/", "/admin/orders/order/"]:
        visit(staff_page, url, violations)

    # Swagger UI comes from our own static files and starts with no inline script.
    visit(page, "/api/docs/", violations)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.locator(".opblock-summary-path", has_text="/api/v1/orders/").count() >= 1

    assert violations == []
    assert [p for p in browser_problems if "Content Security Policy" in p or "Refused" in p] == []
    assert browser_problems == []
