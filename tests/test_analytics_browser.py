"""/staff/analytics/ in Debian's Chromium: a member of staff sees a week of the real order history
(imported from ../shared/data, rolled up) with every chart drawn by Chart.js from our own static
files, no request leaving the shop's host, and the live order feed connected."""
import csv
import gzip
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from analytics.importer import import_orders
from analytics.rollups import rebuild
from analytics.tests.conftest import RETAIL

CHARTS = ["chart-trend", "chart-customers", "chart-funnel", "chart-products", "chart-countries"]


@pytest.fixture
def first_week_of_november_2011(tmp_path, transactional_db):
    assert RETAIL.is_file(), f"Online Retail data not found at {RETAIL}; set ISHOP_DEMO_DATA"
    path = tmp_path / "week.csv"
    with gzip.open(RETAIL, "rt", newline="", encoding="utf-8") as source, open(path, "w", newline="") as target:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(target, fieldnames=reader.fieldnames)
        writer.writeheader()
        writer.writerows(row for row in reader if "2011-11-01" <= row["InvoiceDate"][:10] <= "2011-11-07")
    import_orders(path, progress=False)
    rebuild()


@pytest.mark.browser
def test_staff_see_the_real_week_with_every_chart_drawn(first_week_of_november_2011, staff_page: Page,
                                                        asgi_live_server, browser_problems):
    hosts = set()
    staff_page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    staff_page.goto("/staff/analytics/")  # opens on the latest period with sales: this week
    expect(staff_page.get_by_role("heading", name="Analytics")).to_be_visible()
    expect(staff_page.locator(".period-line")).to_contain_text("1 Nov 2011")
    expect(staff_page.locator("[data-kpi=net_revenue] .kpi-value")).to_contain_text("£")
    expect(staff_page.locator("[data-table=countries] tbody tr").first).to_contain_text("United Kingdom")
    staff_page.wait_for_function("() => window.Chart !== undefined")
    drawn = staff_page.evaluate("ids => ids.map(id => !!window.Chart.getChart(id))", CHARTS)
    assert drawn == [True] * len(CHARTS)
    assert staff_page.evaluate("() => window.Chart.version") == "4.4.9"
    expect(staff_page.locator("[data-live-status]")).to_have_text("Live updates: on")
    assert hosts == {urlparse(asgi_live_server.url).netloc}  # no CDN, nothing from elsewhere
    assert browser_problems == []
