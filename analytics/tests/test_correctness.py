"""The numbers are exactly right on the real history: the whole UCI Online Retail file is imported
and rolled up, and the rollups, the dashboard and the API are compared to the penny with figures
computed here independently, by a plain pass over the CSV with the csv module.

The independent rules (what an accountant would do with the file):
- `A` invoices (bad-debt adjustments, the only negative prices) are not sales;
- negative quantities outside a `C` invoice are stock write-offs, not sales;
- a `C` invoice is a cancellation: its (negative) value reduces net revenue on its day;
- each line is worth round(Quantity x UnitPrice, 2), half up;
- invoices = distinct non-C invoice numbers; customers = distinct CustomerIDs on them;
  AOV = value of the non-C invoices / their number;
- products exclude the non-product codes (postage, manual, fees, discounts, samples).
"""
import json
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.tests.factories import AnalystFactory, UserFactory
from analytics.models import DailyCountry, DailyCustomer, DailyProduct, DailySales
from analytics.rollups import snapshot
from orders.models import Order

PENNY = Decimal("0.01")
NOT_PRODUCTS = {"POST", "DOT", "M", "m", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "B"}
COUNTRY_CODES = {"United Kingdom": "GB", "Netherlands": "NL", "EIRE": "IE", "Germany": "DE", "France": "FR",
                 "Australia": "AU", "Spain": "ES", "Switzerland": "CH", "Belgium": "BE", "Sweden": "SE"}


def expected(rows: list[dict], month_prefix: str) -> dict:
    """Figures for the lines whose InvoiceDate starts with `month_prefix` ("2011-11", "2011")."""
    net = gross = Decimal("0")
    invoices, credit_notes, customers = set(), set(), set()
    units = 0
    products = defaultdict(Decimal)
    countries = defaultdict(Decimal)
    for row in rows:
        if not row["InvoiceDate"].startswith(month_prefix):
            continue
        number, quantity, price = row["InvoiceNo"], int(row["Quantity"]), Decimal(row["UnitPrice"])
        if number.startswith("A") or price < 0 or (quantity < 0 and not number.startswith("C")):
            continue
        value = (quantity * price).quantize(PENNY, ROUND_HALF_UP)
        net += value
        countries[row["Country"]] += value
        if row["StockCode"] not in NOT_PRODUCTS:
            products[row["StockCode"]] += value
        if number.startswith("C"):
            credit_notes.add(number)
            continue
        gross += value
        invoices.add(number)
        if row["StockCode"] not in NOT_PRODUCTS:
            units += quantity
        if row["CustomerID"]:
            customers.add(row["CustomerID"])
    top = sorted(products.items(), key=lambda item: (-item[1], item[0]))[:10]
    return {"net": net, "gross": gross, "invoices": len(invoices), "customers": len(customers),
            "aov": (gross / len(invoices)).quantize(PENNY, ROUND_HALF_UP), "units": units,
            "credit_notes": len(credit_notes), "top": top, "countries": countries}


def rollup_figures(start: date, end: date) -> dict:
    sales = DailySales.objects.filter(currency="GBP", day__gte=start, day__lte=end)
    total = lambda name: sum(getattr(row, name) for row in sales)  # noqa: E731
    return {"net": total("net_revenue"), "gross": total("gross_revenue"), "invoices": total("orders"),
            "units": total("units"), "credit_notes": total("refunds"),
            "customers": DailyCustomer.objects.filter(currency="GBP", day__gte=start, day__lte=end)
            .values("customer_id").distinct().count()}


@pytest.fixture
def imported_history(db, retail_csv):
    call_command("import_orders", str(retail_csv), "--no-progress", stdout=open("/dev/null", "w"))
    call_command("rebuild_analytics", "--from", "2010-12-01", "--to", "2011-12-31", stdout=open("/dev/null", "w"))


def test_rollups_dashboard_and_api_match_the_csv_to_the_penny(imported_history, retail_rows, retail_csv, client):
    """One test, so that the whole file is imported once (about 40 s on PostgreSQL)."""
    november, year = expected(retail_rows, "2011-11"), expected(retail_rows, "2011")
    # The real file's well-known shape: the November peak, the UK first.
    assert november["net"] > Decimal("1400000") and november["invoices"] > 2500

    for figures, (start, end) in ((november, (date(2011, 11, 1), date(2011, 11, 30))),
                                  (year, (date(2011, 1, 1), date(2011, 12, 31)))):
        got = rollup_figures(start, end)
        for name in ("net", "gross", "invoices", "customers", "units", "credit_notes"):
            assert got[name] == figures[name], (start, name)
        assert (got["gross"] / got["invoices"]).quantize(PENNY, ROUND_HALF_UP) == figures["aov"]

    # Per country, November.
    by_country = {row["country"]: row["net"] for row in DailyCountry.objects.filter(
        currency="GBP", day__gte=date(2011, 11, 1), day__lte=date(2011, 11, 30)).values("country")
        .annotate(net=Sum("net_revenue"))}
    for name, code in COUNTRY_CODES.items():
        assert by_country.get(code, Decimal(0)) == november["countries"][name], name
    assert max(by_country, key=by_country.get) == "GB"

    # Top 10 products of 2011 by net revenue.
    from analytics import selectors

    period = selectors.Period(date(2011, 1, 1), date(2011, 12, 31))
    top = selectors.top_products(period, "GBP")
    assert [(row["sku"], row["net_revenue"]) for row in top] == year["top"]

    # The dashboard shows the same figures for November.
    client.force_login(AnalystFactory())
    page = client.get("/staff/analytics/", {"range": "custom", "start": "2011-11-01", "end": "2011-11-30",
                                            "currency": "GBP"})
    assert page.status_code == 200
    cards = {card["key"]: card["value"] for card in page.context["cards"]}
    assert cards["net_revenue"] == november["net"]
    assert cards["orders"] == november["invoices"]
    assert cards["customers"] == november["customers"]
    assert cards["average_order_value"] == november["aov"]
    html = page.content.decode()
    assert f"£{november['net']:,.2f}" in html and "United Kingdom" in html
    assert [p["sku"] for p in page.context["products"]] == [sku for sku, _ in expected(retail_rows, "2011-11")["top"]]

    # And the API, for 2011 by month and as a whole.
    response = client.post("/api/v1/analytics/query", json.dumps({
        "start_date": "2011-01-01", "end_date": "2011-12-31", "group_by": "month",
        "metrics": ["total_sales", "orders", "customers", "average_order_value"]}), content_type="application/json")
    assert response.status_code == 200
    months = {row["key"]: row for row in response.json()["data"]}
    assert months["2011-11-01"] == {"key": "2011-11-01", "total_sales": str(november["net"]),
                                    "orders": november["invoices"], "customers": november["customers"],
                                    "average_order_value": str(november["aov"])}
    assert sum(Decimal(row["total_sales"]) for row in months.values()) == year["net"]
    assert max(months.values(), key=lambda row: Decimal(row["total_sales"]))["key"] == "2011-11-01"

    # Every line of the file is an order line or a recorded anomaly; a second run changes nothing.
    lines = Counter()
    for row in retail_rows:
        number, quantity, price = row["InvoiceNo"], int(row["Quantity"]), Decimal(row["UnitPrice"])
        if number.startswith("A") or price < 0:
            lines["adjustment"] += 1
        elif quantity < 0 and not number.startswith("C"):
            lines["write-off"] += 1
        else:
            lines["order line"] += 1
    from analytics.models import ImportAnomaly
    from orders.models import OrderLine

    assert OrderLine.objects.count() == lines["order line"]
    assert ImportAnomaly.objects.filter(kind="accounting_adjustment").count() == lines["adjustment"] == 3
    assert ImportAnomaly.objects.filter(kind="stock_adjustment").count() == lines["write-off"]
    assert sum(lines.values()) == 541_909
    sales = {r["InvoiceNo"] for r in retail_rows if r["InvoiceNo"][0].isdigit() and int(r["Quantity"]) > 0}
    credits = {r["InvoiceNo"] for r in retail_rows if r["InvoiceNo"].startswith("C")}
    assert Order.objects.filter(status="delivered").count() == len(sales)
    assert Order.objects.filter(status="refunded").count() == len(credits)
    assert set(Order.objects.values_list("currency", flat=True).distinct()) == {"GBP"}

    before = snapshot()
    counts = {model: model.objects.count() for model in (Order, OrderLine, ImportAnomaly)}
    call_command("import_orders", str(retail_csv), "--no-progress", stdout=open("/dev/null", "w"))
    call_command("rebuild_analytics", "--from", "2011-11-01", "--to", "2011-11-30", stdout=open("/dev/null", "w"))
    assert {model: model.objects.count() for model in counts} == counts
    assert snapshot() == before
    assert DailyProduct.objects.exists()
