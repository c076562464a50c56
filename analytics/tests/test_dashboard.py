"""/staff/analytics/ and the analytics API: staff only, read from the rollups with a query count
that does not grow with the history, periods and currencies chosen by the user, CSV exports, and
Chart.js served from our own static files."""
import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import AnalystFactory, UserFactory
from analytics.models import DailyCountry, DailyCustomer, DailyFunnel, DailyProduct, DailySales
from catalog.tests.factories import ProductFactory
from branding.selectors import stored_branding
from catalog.tree import category_tree

pytestmark = pytest.mark.django_db

URL = "/staff/analytics/"


@pytest.fixture
def staff_client(client):
    client.force_login(AnalystFactory())
    return client


def fill_days(start: date, days: int, products: list, currency: str = "GBP") -> None:
    """Rollup rows for `days` days from `start`: 10 orders of 100.00 a day, 2 customers, a funnel."""
    for n in range(days):
        day = start + timedelta(days=n)
        DailySales.objects.create(day=day, currency=currency, orders=10, units=30, gross_revenue=Decimal("1000.00"),
                                  refunds=1, refunded_value=Decimal("100.00"), net_revenue=Decimal("900.00"),
                                  customers=2, new_customers=1, returning_customers=1)
        for customer_id in (1, 2 + n):
            DailyCustomer.objects.create(day=day, currency=currency, customer_id=customer_id, orders=5,
                                         revenue=Decimal("500.00"), is_new=customer_id != 1 or n == 0)
        for rank, product in enumerate(products):
            DailyProduct.objects.create(day=day, currency=currency, product=product, orders=1, units=1 + rank,
                                        revenue=Decimal(10 * (rank + 1)), net_revenue=Decimal(10 * (rank + 1)))
        DailyCountry.objects.create(day=day, currency=currency, country="GB", orders=9,
                                    gross_revenue=Decimal("900.00"), net_revenue=Decimal("800.00"))
        DailyCountry.objects.create(day=day, currency=currency, country="FR", orders=1,
                                    gross_revenue=Decimal("100.00"), net_revenue=Decimal("100.00"))
        DailyFunnel.objects.get_or_create(day=day, defaults=dict(sessions=100, viewed=60, carted=20, checkout=12,
                                                                 ordered=10))


def test_only_staff_see_it(client):
    assert client.get(URL).status_code == 302  # to the admin login
    client.force_login(UserFactory())
    assert client.get(URL).status_code == 302
    assert client.get("/api/v1/analytics/overview").status_code == 403
    assert client.post("/api/v1/analytics/query", {}, content_type="application/json").status_code == 403
    # Staff without the Analysts role (say, a catalogue manager) are refused too.
    client.force_login(UserFactory(is_staff=True))
    assert client.get(URL).status_code == 403
    assert client.get("/staff/analytics/export/daily.csv").status_code == 403
    assert client.get("/api/v1/analytics/overview").status_code == 403


def test_kpis_compare_with_the_previous_period(staff_client):
    today = date.today()
    products = [ProductFactory(sku=f"SKU{n}") for n in range(3)]
    fill_days(today - timedelta(days=13), 14, products)   # the last 7 days and the 7 before
    DailySales.objects.filter(day__gte=today - timedelta(days=6)).update(orders=20, gross_revenue=Decimal("2000.00"),
                                                                        net_revenue=Decimal("1900.00"))
    page = staff_client.get(URL, {"range": "7"})
    cards = {card["key"]: card for card in page.context["cards"]}
    assert cards["net_revenue"]["value"] == Decimal("13300.00")
    assert cards["net_revenue"]["previous"] == Decimal("6300.00")
    assert cards["net_revenue"]["change"] == Decimal("111.1")
    assert (cards["orders"]["value"], cards["orders"]["change"]) == (140, Decimal("100.0"))
    assert cards["average_order_value"]["value"] == Decimal("100.00")
    assert cards["customers"]["value"] == 8  # customer 1 every day + one new customer a day
    assert cards["conversion_rate"]["value"] == Decimal("10.00")
    html = page.content.decode()
    assert "£13,300.00" in html and "+111.1% vs previous" in html
    assert [p["sku"] for p in page.context["products"]] == ["SKU2", "SKU1", "SKU0"]
    assert [c["name"] for c in page.context["countries"]] == ["United Kingdom", "France"]
    data = json.loads(re.search(r'<script id="analytics-data" type="application/json">(.*?)</script>', html,
                                re.S).group(1))
    assert len(data["days"]) == 7 and data["funnel"] == [700, 420, 140, 84, 70]


def test_the_page_costs_the_same_queries_for_a_week_or_ten_years_of_history(staff_client):
    products = [ProductFactory(sku=f"SKU{n}") for n in range(12)]
    today = date.today()
    fill_days(today - timedelta(days=6), 7, products)
    category_tree()  # the header's categories: read once after the catalogue changed (catalog.tree)
    stored_branding()  # the site settings: read once, then cached until staff change them
    with CaptureQueriesContext(connection) as small:
        assert staff_client.get(URL, {"range": "year"}).status_code == 200
    fill_days(today - timedelta(days=3650), 300, products)  # a long history before the period
    fill_days(today - timedelta(days=40), 30, products, currency="USD")
    with CaptureQueriesContext(connection) as large:
        assert staff_client.get(URL, {"range": "year"}).status_code == 200
    # session, user, the Analysts permission (user's and groups'), the header's cart (its categories
    # come from the category tree snapshot); extent, trend, funnel, top 10 (2), countries, the KPIs
    # (3), recommendation rails (1), support chat per day (1, issue 29): 16, whatever the history.
    assert len(large) == len(small) == 16
    for query in large:
        assert "orders_order" not in query["sql"] and "analytics_event" not in query["sql"]  # rollups only


def test_periods_currencies_and_bad_input(staff_client):
    fill_days(date(2011, 11, 1), 30, [ProductFactory()])
    fill_days(date(2011, 11, 1), 2, [ProductFactory()], currency="USD")
    page = staff_client.get(URL, {"range": "custom", "start": "2011-11-01", "end": "2011-11-30", "currency": "usd"})
    assert page.context["currency"] == "USD" and page.context["period"].days == 30
    assert {c["key"]: c["value"] for c in page.context["cards"]}["orders"] == 20
    assert page.context["years"] == [2011]
    bad = staff_client.get(URL, {"range": "custom", "start": "2011-11-30", "end": "2011-11-01"})
    assert bad.status_code == 200 and "must not be before the first day" in bad.content.decode()
    assert staff_client.get(URL, {"range": "forever"}).status_code == 200
    assert staff_client.get(URL, {"range": "custom", "start": "yesterday"}).status_code == 200


def test_each_table_exports_as_csv(staff_client):
    fill_days(date(2011, 11, 1), 3, [ProductFactory(sku="85123A", name="HEART HOLDER")])
    params = {"range": "custom", "start": "2011-11-01", "end": "2011-11-03", "currency": "GBP"}
    daily = staff_client.get(reverse("analytics:export", kwargs={"table": "daily"}), params)
    assert daily["Content-Type"].startswith("text/csv")
    assert 'filename="analytics-daily-GBP-2011-11-01-2011-11-03.csv"' in daily["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(daily.content.decode())))
    assert [r["date"] for r in rows] == ["2011-11-01", "2011-11-02", "2011-11-03"]
    assert rows[0]["net_revenue"] == "900.00" and rows[0]["orders"] == "10" and rows[0]["currency"] == "GBP"
    products = list(csv.DictReader(io.StringIO(staff_client.get(
        reverse("analytics:export", kwargs={"table": "products"}), params).content.decode())))
    assert products == [{"sku": "85123A", "name": "HEART HOLDER", "net_revenue": "30.00", "revenue": "30.00",
                         "returned_value": "0.00", "units": "3", "returned_units": "0", "orders": "3", "views": "0",
                         "add_to_carts": "0", "currency": "GBP"}]
    countries = staff_client.get(reverse("analytics:export", kwargs={"table": "countries"}), params).content.decode()
    assert "GB,United Kingdom,27,2700.00,0.00,2400.00,GBP" in countries
    funnel = staff_client.get(reverse("analytics:export", kwargs={"table": "funnel"}), params).content.decode()
    assert "2011-11-01,100,60,20,12,10,10.00" in funnel
    assert staff_client.get("/staff/analytics/export/secrets.csv").status_code == 404


def test_chart_js_comes_from_our_static_files_never_a_cdn(staff_client):
    html = staff_client.get(URL).content.decode()
    sources = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert f"{settings.STATIC_URL}vendor/chartjs/chart.umd.js" in sources
    assert all(src.startswith(settings.STATIC_URL) or src.startswith("/") for src in sources)
    vendored = Path(settings.BASE_DIR) / "static" / "vendor" / "chartjs"
    assert (vendored / "chart.umd.js").is_file(), "Chart.js is fetched by `make install` (npm pack chart.js)"
    assert "Chart.js v4.4.9" in (vendored / "chart.umd.js").read_text()[:300]
    assert "MIT" in (vendored / "LICENSE.md").read_text()


def test_the_api_reads_the_same_rollups(staff_client):
    today = date.today()
    fill_days(today - timedelta(days=29), 30, [ProductFactory(sku="A"), ProductFactory(sku="B")])
    overview = staff_client.get("/api/v1/analytics/overview").json()
    assert overview["total_revenue"] == "27000.00" and overview["total_orders"] == 300
    assert overview["average_order_value"] == "100.00" and overview["conversion_rate"] == "10.00"
    revenue = staff_client.get("/api/v1/analytics/revenue", {"days": 7}).json()
    assert len(revenue["data"]) == 7 and revenue["total"] == "6300.00" and revenue["currency"] == "GBP"
    orders = staff_client.get("/api/v1/analytics/orders", {"days": 30}).json()
    assert orders["total"] == 300 and orders["data"][0]["refunds"] == 1
    users = staff_client.get("/api/v1/analytics/users").json()
    assert len(users["data"]) == 7 and users["customers"] == 8
    products = staff_client.get("/api/v1/analytics/products", {"limit": 1}).json()
    assert [p["sku"] for p in products["data"]] == ["B"] and products["data"][0]["net_revenue"] == "600.00"
    bad = staff_client.get("/api/v1/analytics/revenue", {"days": "0"})
    assert bad.status_code == 400 and bad.json()["fields"]["days"]

    def query(**body):
        return staff_client.post("/api/v1/analytics/query", json.dumps(body), content_type="application/json")

    start, end = (today - timedelta(days=29)).isoformat(), today.isoformat()
    weekly = query(start_date=start, end_date=end, metrics=["total_sales", "conversion_rate"], group_by="week")
    assert weekly.status_code == 200
    assert sum(Decimal(row["total_sales"]) for row in weekly.json()["data"]) == Decimal("27000.00")
    by_country = query(start_date=start, end_date=end, metrics=["total_sales", "orders"], group_by="country").json()
    assert by_country["data"][0] == {"key": "GB", "name": "United Kingdom", "total_sales": "24000.00", "orders": 270}
    wrong = query(start_date=end, end_date=start, metrics=["total_sales"], group_by="day")
    assert wrong.status_code == 400 and "end_date" in wrong.json()["fields"]
    unknown = query(start_date=start, end_date=end, metrics=["conversion_rate"], group_by="product")
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid"
    assert query(start_date=start, end_date=end, metrics=[], group_by="decade").status_code == 400


def test_with_only_an_old_history_the_page_opens_on_its_latest_year(staff_client):
    fill_days(date(2011, 11, 28), 12, [ProductFactory()])  # 2011-11-28 .. 2011-12-09
    page = staff_client.get(URL)
    assert (page.context["period"].start, page.context["period"].end) == (date(2011, 11, 28), date(2011, 12, 9))
    assert page.context["preset"] == "custom"
    assert staff_client.get(URL, {"range": "30"}).context["period"].end == date.today()


def test_long_periods_are_charted_by_week_and_more_refunds_are_bad_news(staff_client):
    fill_days(date(2011, 1, 3), 14, [ProductFactory()])  # two weeks, Monday to Sunday
    DailySales.objects.filter(day__gte=date(2011, 1, 10)).update(refunded_value=Decimal("300.00"))
    page = staff_client.get(URL, {"range": "custom", "start": "2011-01-03", "end": "2011-06-30"})
    data = page.context["chart_data"]
    assert data["step"] == "week" and data["days"][:2] == ["2011-01-03", "2011-01-10"]
    assert data["orders"][:2] == [70, 70] and data["revenue"][:2] == ["6300.00", "6300.00"]
    assert "Revenue and orders per week" in page.content.decode()
    week = staff_client.get(URL, {"range": "custom", "start": "2011-01-10", "end": "2011-01-16"})
    cards = {card["key"]: card for card in week.context["cards"]}
    assert cards["refunded_value"]["change"] == Decimal("200.0") and cards["refunded_value"]["good"] is False
    assert week.context["chart_data"]["step"] == "day"


def test_without_chart_js_in_the_build_the_page_still_shows_every_figure(staff_client, monkeypatch):
    from analytics import views

    def missing(path):
        raise ValueError(f"Missing staticfiles manifest entry for '{path}'")  # as ManifestStaticFilesStorage

    monkeypatch.setattr(views, "static", missing)
    fill_days(date(2011, 11, 1), 3, [ProductFactory(sku="85123A")])
    page = staff_client.get(URL, {"range": "custom", "start": "2011-11-01", "end": "2011-11-03"})
    html = page.content.decode()
    assert page.status_code == 200 and "chart.umd.js" not in html
    assert "85123A" in html and "United Kingdom" in html and "£2,700.00" in html
