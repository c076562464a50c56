"""Staff pages: /staff/ (live orders and stock) and /staff/analytics/ (rollups, charts, CSV)."""
import csv
from datetime import date, timedelta

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static

from chat import selectors as chat_selectors

from . import selectors


@staff_member_required
@permission_required("accounts.view_dashboard", raise_exception=True)  # the "Analysts" role (issue 7)
def staff_dashboard(request: HttpRequest) -> HttpResponse:
    """/staff/: recent orders and low-stock variants, then live updates over /ws/staff/."""
    return render(request, "analytics/staff.html", {
        "orders": selectors.recent_orders(), "low_stock": selectors.low_stock_variants()})


def _period(request: HttpRequest):
    """(period, preset, error message or "") from ?range=&start=&end=; falls back to 30 days."""
    preset = request.GET.get("range", "30")
    try:
        return selectors.parse_period(preset=preset, start=request.GET.get("start", ""),
                                      end=request.GET.get("end", "")), preset, ""
    except selectors.PeriodError as error:
        return selectors.parse_period(preset="30"), "30", str(error)


CARDS = [("net_revenue", "Net revenue", "money"), ("orders", "Orders", "count"),
         ("average_order_value", "Average order value", "money"), ("units", "Units sold", "count"),
         ("customers", "Customers", "count"), ("new_customers", "New customers", "count"),
         ("refunded_value", "Refunded", "money-down"), ("conversion_rate", "Conversion rate", "percent")]


def _cards(kpis: dict) -> list[dict]:
    """Card dicts: key, label, kind ("money", "count", "percent"), value, previous, change, and
    good (True/False/None: whether the change is good news; fewer refunds are)."""
    cards = []
    for key, label, kind in CARDS:
        figure = kpis[key]
        lower_is_better = kind.endswith("-down")
        change = figure["change"]
        good = None if not change else (change > 0) != lower_is_better
        cards.append({"key": key, "label": label, "kind": kind.removesuffix("-down"), "good": good, **figure})
    return cards


CHART_JS = "vendor/chartjs/chart.umd.js"  # fetched by `make install` from npm (Makefile), never a CDN


def _static_url(path: str) -> str | None:
    """The URL of a static file, or None when the manifest storage does not have it (Chart.js not
    fetched at build time): the page then works without charts instead of failing."""
    try:
        return static(path)
    except ValueError:
        return None


WEEKLY_AFTER_DAYS = 120  # longer periods are charted by week (Monday), so the shape shows


def _buckets(trend: list[dict], weekly: bool) -> list[dict]:
    """The daily trend, or its sums per week (keyed by the week's Monday) when `weekly`."""
    if not weekly:
        return trend
    weeks: dict = {}
    for row in trend:
        monday = row["date"] - timedelta(days=row["date"].weekday())
        week = weeks.setdefault(monday, {"date": monday, "net_revenue": 0, "orders": 0, "new_customers": 0,
                                         "returning_customers": 0})
        for key in ("net_revenue", "orders", "new_customers", "returning_customers"):
            week[key] += row[key]
    return list(weeks.values())


def _chart_data(period, currency, trend, funnel, products, countries) -> dict:
    weekly = period.days > WEEKLY_AFTER_DAYS
    points = _buckets(trend, weekly)
    return {
        "currency": currency,
        "step": "week" if weekly else "day",
        "days": [row["date"].isoformat() for row in points],
        "revenue": [str(row["net_revenue"]) for row in points],
        "orders": [row["orders"] for row in points],
        "new_customers": [row["new_customers"] for row in points],
        "returning_customers": [row["returning_customers"] for row in points],
        "funnel": [funnel["sessions"], funnel["viewed"], funnel["carted"], funnel["checkout"], funnel["ordered"]],
        "products": {"labels": [f'{p["sku"]} {p["name"]}'[:40] for p in products],
                     "values": [str(p["net_revenue"]) for p in products]},
        "countries": {"labels": [c["name"] for c in countries], "values": [str(c["net_revenue"]) for c in countries]},
    }


@staff_member_required
@permission_required("accounts.view_dashboard", raise_exception=True)  # the "Analysts" role (issue 7)
def analytics_dashboard(request: HttpRequest) -> HttpResponse:
    """/staff/analytics/?range=7|30|90|year|custom&start=&end=&currency=: KPI cards against the
    previous period, trend/customers/funnel/top-10/country charts and tables, all from rollups."""
    period, preset, error = _period(request)
    extent = selectors.data_extent()
    currency = selectors.choose_currency(request.GET.get("currency", ""), extent)
    if "range" not in request.GET and currency in extent and extent[currency][1] < period.start:
        # Nothing recent (an imported history): open on the latest year that has sales.
        last = extent[currency][1]
        period, preset = selectors.Period(max(extent[currency][0], date(last.year, 1, 1)), last), "custom"
    trend = selectors.trend(period, currency)
    funnel = selectors.funnel(period)
    products = selectors.top_products(period, currency)
    countries = selectors.countries(period, currency)
    years = sorted({year for first, last in extent.values() for year in range(first.year, last.year + 1)})
    # "vs previous period" only when that period lies wholly within the data of this currency.
    comparable = currency in extent and extent[currency][0] <= period.previous.start
    return render(request, "analytics/dashboard.html", {
        "period": period, "preset": preset, "presets": selectors.PRESETS, "error": error,
        "currency": currency, "currencies": sorted(set(extent) | {settings.SHOP_CURRENCY}), "years": years,
        "comparable": comparable,
        "cards": _cards(selectors.kpis(period, currency)), "trend": trend, "funnel": funnel,
        "products": products, "countries": countries, "recommendations": selectors.recommendation_clicks(period),
        "support_chat": chat_selectors.daily_stats(period.start, period.end),  # issue 29
        "chart_data": _chart_data(period, currency, trend, funnel, products, countries),
        "export_query": request.GET.urlencode(), "chart_js": _static_url(CHART_JS),
    })


EXPORTS = {
    "daily": ["date", "net_revenue", "gross_revenue", "orders", "units", "new_customers", "returning_customers",
              "cancellations", "refunds", "refunded_value"],
    "products": ["sku", "name", "net_revenue", "revenue", "returned_value", "units", "returned_units", "orders",
                 "views", "add_to_carts"],
    "countries": ["country", "name", "orders", "gross_revenue", "returned_value", "net_revenue"],
    "funnel": ["date", "sessions", "viewed", "carted", "checkout", "ordered", "conversion_rate"],
}


@staff_member_required
@permission_required("accounts.view_dashboard", raise_exception=True)  # the "Analysts" role (issue 7)
def analytics_export(request: HttpRequest, table: str) -> HttpResponse:
    """/staff/analytics/export/<daily|products|countries|funnel>.csv with the dashboard's period
    and currency: one row per day / product / country, money as plain decimals."""
    if table not in EXPORTS:
        raise Http404("No such table")
    period, _, _ = _period(request)
    currency = selectors.choose_currency(request.GET.get("currency", ""), selectors.data_extent())
    rows = {
        "daily": lambda: selectors.trend(period, currency),
        "products": lambda: selectors.top_products(period, currency, limit=None),
        "countries": lambda: selectors.countries(period, currency),
        "funnel": lambda: selectors.funnel_days(period),
    }[table]()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"analytics-{table}-{currency}-{period.start}-{period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    columns = EXPORTS[table]
    writer.writerow(columns if table in ("funnel",) else [*columns, "currency"])
    for row in rows:
        values = ["" if row.get(c) is None else row.get(c) for c in columns]
        writer.writerow(values if table == "funnel" else [*values, currency])
    return response
