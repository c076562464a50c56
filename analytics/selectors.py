"""Reads for the staff pages and the analytics API.

The /staff/ page reads orders and stock. Everything else here reads the daily rollup tables only,
one query per figure group, so a page costs the same for one month of history as for ten years
(analytics/tests/test_dashboard.py pins the query count). Money is Decimal in one currency per call.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from catalog.models import Product, Variant
from orders.models import Order
from shop.sources import Source

from .countries import country_name
from .models import DailyCountry, Event, DailyCustomer, DailyFunnel, DailyProduct, DailyRecommendation, DailySales

ZERO = Decimal("0.00")
PENNY = Decimal("0.01")
MAX_DAYS = 3660  # ten years: the longest period a request may ask for


def recently_viewed(user_id: int, *, limit: int = 20) -> list[int]:
    """The ids of the `limit` products customer `user_id` viewed most recently (their
    product_viewed events; buffered events count once flushed), most recent first, each once."""
    rows = (Event.objects.filter(user_id=user_id, event_type=Event.Type.PRODUCT_VIEWED)
            .order_by("-timestamp").values_list("data__product_id", flat=True)[:limit * 5])
    return list(dict.fromkeys(pk for pk in rows if isinstance(pk, int)))[:limit]


def recent_orders(limit: int = 20) -> QuerySet[Order]:
    """The newest orders of the web shop, with their stored unit counts (one query)."""
    return Order.objects.filter(source=Source.WEB).order_by("-created_at", "-pk")[:limit]


def low_stock_variants(limit: int = 50) -> QuerySet[Variant]:
    """Active variants of sellable catalogue products (Product.objects.visible(): never the hidden
    imported history) at or below their low-stock threshold, emptiest first (one query)."""
    return (Variant.objects.active().filter(stock__lte=F("low_stock_threshold"),
                                            product__in=Product.objects.visible())
            .select_related("product").order_by("stock", "sku")[:limit])


# --- Periods ------------------------------------------------------------------------------------

class PeriodError(ValueError):
    """A period that cannot be read: {"field": message}."""

    def __init__(self, fields: dict[str, str]):
        super().__init__(next(iter(fields.values())))
        self.fields = fields


@dataclass(frozen=True)
class Period:
    """Days start..end, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]


PRESETS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days", "year": "This year", "custom": "Custom"}


def parse_period(*, preset: str = "30", start: str = "", end: str = "", today: date | None = None) -> Period:
    """The period for a preset ("7", "30", "90": the last N days up to today; "year": 1 January to
    today) or "custom" with ISO `start` and `end`. Raises PeriodError naming the bad field."""
    today = today or timezone.localdate()
    if preset in ("7", "30", "90"):
        return Period(today - timedelta(days=int(preset) - 1), today)
    if preset == "year":
        return Period(date(today.year, 1, 1), today)
    if preset != "custom":
        raise PeriodError({"range": f"Choose one of {', '.join(PRESETS)}."})
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise PeriodError({"start": "Enter the first day as YYYY-MM-DD."}) from None
    try:
        last = date.fromisoformat(end)
    except ValueError:
        raise PeriodError({"end": "Enter the last day as YYYY-MM-DD."}) from None
    if first > last:
        raise PeriodError({"end": "The last day must not be before the first day."})
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError({"end": f"A period can be at most {MAX_DAYS} days long."})
    return Period(first, last)


def period_of_days(days: int, today: date | None = None) -> Period:
    """The last `days` days up to today."""
    today = today or timezone.localdate()
    return Period(today - timedelta(days=days - 1), today)


def data_extent() -> dict[str, tuple[date, date]]:
    """currency -> (first day, last day) with sales rollups (one query on the small DailySales)."""
    return {r["currency"]: (r["first"], r["last"]) for r in
            DailySales.objects.order_by().values("currency").annotate(first=Min("day"), last=Max("day"))}


def choose_currency(requested: str, extent: dict[str, tuple[date, date]]) -> str:
    """The requested currency when it has data or is the shop's own (selectable before its first
    sale), else the shop's when it has data, else the first with data."""
    requested = (requested or "").upper()
    if requested == settings.SHOP_CURRENCY:
        return requested
    for candidate in (requested, settings.SHOP_CURRENCY):
        if candidate in extent:
            return candidate
    return sorted(extent)[0] if extent else settings.SHOP_CURRENCY


# --- Figures -------------------------------------------------------------------------------------

def ratio(part, whole, places: Decimal = PENNY) -> Decimal | None:
    """part / whole rounded half-up to `places`, or None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(places, ROUND_HALF_UP)


def change(current, previous) -> Decimal | None:
    """Percentage change from previous to current, one decimal, or None when previous is 0/None."""
    if current is None or not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) * 100 / abs(Decimal(previous))).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _pennies(row: dict, fields) -> dict:
    """`row` with its money `fields` as Decimals with two places (SQLite's SUM drops them)."""
    return {**row, **{f: Decimal(row[f] or 0).quantize(PENNY) for f in fields}}


def _in(period: Period) -> Q:
    return Q(day__gte=period.start, day__lte=period.end)


def kpis(period: Period, currency: str) -> dict:
    """The KPI cards: {name: {"value", "previous", "change"}} for net_revenue, gross_revenue,
    orders, average_order_value (gross / orders), units, customers (distinct), new_customers,
    refunded_value, cancellations, conversion_rate (% of sessions with an order). Three queries."""
    previous = period.previous
    sums = ("net_revenue", "gross_revenue", "orders", "units", "new_customers", "refunded_value", "refunds",
            "cancellations", "cancelled_value")
    aggregates = {}
    for label, p in (("now", period), ("before", previous)):
        for name in sums:
            aggregates[f"{label}_{name}"] = Sum(name, filter=_in(p))
    sales = DailySales.objects.filter(currency=currency, day__gte=previous.start, day__lte=period.end).aggregate(
        **aggregates)
    customers = DailyCustomer.objects.filter(currency=currency, day__gte=previous.start,
                                             day__lte=period.end).aggregate(
        now=Count("customer_id", distinct=True, filter=_in(period)),
        before=Count("customer_id", distinct=True, filter=_in(previous)))
    funnel = DailyFunnel.objects.filter(day__gte=previous.start, day__lte=period.end).aggregate(
        now_sessions=Sum("sessions", filter=_in(period)), now_ordered=Sum("ordered", filter=_in(period)),
        before_sessions=Sum("sessions", filter=_in(previous)), before_ordered=Sum("ordered", filter=_in(previous)))

    def figures(label: str) -> dict:
        values = {name: sales[f"{label}_{name}"] or 0 for name in sums}
        for money in ("net_revenue", "gross_revenue", "refunded_value", "cancelled_value"):
            values[money] = Decimal(values[money]).quantize(PENNY)
        values["average_order_value"] = ratio(values["gross_revenue"], values["orders"])
        values["customers"] = customers[label]
        values["conversion_rate"] = ratio((funnel[f"{label}_ordered"] or 0) * 100, funnel[f"{label}_sessions"])
        return values

    now, before = figures("now"), figures("before")
    return {name: {"value": now[name], "previous": before[name], "change": change(now[name], before[name])}
            for name in now}


def trend(period: Period, currency: str) -> list[dict]:
    """One dict per day of the period (zeros on days without sales): date, net_revenue,
    gross_revenue, orders, units, new_customers, returning_customers, refunds. One query."""
    rows = {r.day: r for r in DailySales.objects.filter(_in(period), currency=currency)}
    result = []
    for day in period.each_day():
        r = rows.get(day)
        result.append({"date": day, "net_revenue": r.net_revenue if r else ZERO,
                       "gross_revenue": r.gross_revenue if r else ZERO, "orders": r.orders if r else 0,
                       "units": r.units if r else 0, "new_customers": r.new_customers if r else 0,
                       "returning_customers": r.returning_customers if r else 0,
                       "cancellations": r.cancellations if r else 0, "refunds": r.refunds if r else 0,
                       "refunded_value": r.refunded_value if r else ZERO})
    return result


def funnel(period: Period) -> dict:
    """Sessions, then sessions with a view / add-to-cart / checkout / order in the period (sums of
    the daily counts), and conversion_rate in %. One query."""
    totals = {k: v or 0 for k, v in DailyFunnel.objects.filter(_in(period)).aggregate(
        sessions=Sum("sessions"), viewed=Sum("viewed"), carted=Sum("carted"), checkout=Sum("checkout"),
        ordered=Sum("ordered")).items()}
    totals["conversion_rate"] = ratio(totals["ordered"] * 100, totals["sessions"])
    return totals


def top_products(period: Period, currency: str, limit: int | None = 10) -> list[dict]:
    """Products by net revenue in the period, best first: product_id, sku, name, net_revenue,
    revenue, returned_value, units, returned_units, orders, views, add_to_carts. Two queries: the
    sums grouped by product id alone (the narrowest grouping), then the names of those listed."""
    rows = (DailyProduct.objects.filter(_in(period), currency=currency).order_by().values("product_id")
            .annotate(net_revenue=Sum("net_revenue"), revenue=Sum("revenue"), returned_value=Sum("returned_value"),
                      units=Sum("units"), returned_units=Sum("returned_units"), orders=Sum("orders"),
                      views=Sum("views"), add_to_carts=Sum("add_to_carts"))
            .order_by("-net_revenue", "product_id"))
    rows = list(rows[:limit] if limit else rows)
    names = {pk: (sku, name) for pk, sku, name in Product.objects.filter(pk__in=[r["product_id"] for r in rows])
             .values_list("pk", "sku", "name")} if rows else {}
    return [{"product_id": r["product_id"], "sku": names.get(r["product_id"], ("", ""))[0],
             "name": names.get(r["product_id"], ("", "(deleted product)"))[1],
             **_pennies({k: v for k, v in r.items() if k != "product_id"}, ("net_revenue", "revenue", "returned_value"))}
            for r in rows]


def countries(period: Period, currency: str) -> list[dict]:
    """Countries by net revenue in the period: country, name, orders, gross_revenue, net_revenue. One query."""
    rows = (DailyCountry.objects.filter(_in(period), currency=currency).order_by().values("country")
            .annotate(orders=Sum("orders"), gross_revenue=Sum("gross_revenue"), returned_value=Sum("returned_value"),
                      net_revenue=Sum("net_revenue"))
            .order_by("-net_revenue", "country"))
    return [{**_pennies(row, ("gross_revenue", "returned_value", "net_revenue")), "name": country_name(row["country"])}
            for row in rows]


def funnel_days(period: Period) -> list[dict]:
    """The funnel per day of the period (days with sessions only). One query."""
    return [{"date": r.day, "sessions": r.sessions, "viewed": r.viewed, "carted": r.carted,
             "checkout": r.checkout, "ordered": r.ordered, "conversion_rate": ratio(r.ordered * 100, r.sessions)}
            for r in DailyFunnel.objects.filter(_in(period))]


RECOMMENDATION_RAIL_NAMES = {"pinned": "Goes well with (staff picks)", "also_bought": "Customers also bought",
                             "similar": "Similar products", "cart": "You may also like (cart)",
                             "personal": "Picked for you (home)"}


def recommendation_clicks(period: Period) -> list[dict]:
    """Per recommendation rail (issue 27): how often it was `shown`, how many product views came
    from a click on it (`clicked`) and the click-through rate in % of times shown (`ctr`), summed
    from the daily rollups of the period, most shown first. One query."""
    rows = (DailyRecommendation.objects.filter(_in(period)).values("rail")
            .annotate(shown=Sum("shown"), clicked=Sum("clicked")).order_by("-shown", "rail"))
    return [{"rail": row["rail"], "name": RECOMMENDATION_RAIL_NAMES.get(row["rail"], row["rail"]),
             "shown": row["shown"], "clicked": row["clicked"], "ctr": ratio(row["clicked"] * 100, row["shown"])}
            for row in rows]


# --- Ad-hoc queries (POST /api/v1/analytics/query) -------------------------------------------------

SALES_METRICS = {
    "total_sales": "net_revenue", "net_revenue": "net_revenue", "gross_sales": "gross_revenue",
    "orders": "orders", "units": "units", "refunds": "refunds", "refunded_value": "refunded_value",
    "cancellations": "cancellations", "new_customers": "new_customers",
}
TIME_GROUPS = ("day", "week", "month")
PRODUCT_METRICS = {"total_sales": "net_revenue", "net_revenue": "net_revenue", "gross_sales": "revenue",
                   "orders": "orders", "units": "units", "views": "views", "add_to_carts": "add_to_carts"}
COUNTRY_METRICS = {"total_sales": "net_revenue", "net_revenue": "net_revenue", "gross_sales": "gross_revenue",
                   "orders": "orders"}
DERIVED = ("average_order_value", "conversion_rate", "customers")
GROUPS = (*TIME_GROUPS, "product", "country")


def metrics_for(group_by: str) -> list[str]:
    """The metric names `group_by` supports."""
    if group_by == "product":
        return [*PRODUCT_METRICS, "average_order_value"]
    if group_by == "country":
        return [*COUNTRY_METRICS, "average_order_value"]
    return [*SALES_METRICS, *DERIVED]


def query(*, period: Period, currency: str, metrics: list[str], group_by: str) -> list[dict]:
    """Rows of {"key": day/week/month start (ISO) | product sku | country code, metric: value} for
    the requested metrics (names from metrics_for(group_by), checked by the caller). At most three
    queries. total_sales is net revenue; average_order_value gross / orders; conversion_rate in %."""
    if group_by in TIME_GROUPS:
        return _query_time(period, currency, metrics, group_by)
    if group_by == "product":
        rows = top_products(period, currency, limit=None)
        return [{"key": r["sku"], "name": r["name"], **{
            m: (ratio(r["revenue"], r["orders"]) if m == "average_order_value" else r[PRODUCT_METRICS[m]])
            for m in metrics}} for r in rows]
    rows = countries(period, currency)
    return [{"key": r["country"], "name": r["name"], **{
        m: (ratio(r["gross_revenue"], r["orders"]) if m == "average_order_value" else r[COUNTRY_METRICS[m]])
        for m in metrics}} for r in rows]


def _query_time(period: Period, currency: str, metrics: list[str], group_by: str) -> list[dict]:
    bucket = {"day": F("day"), "week": TruncWeek("day"), "month": TruncMonth("day")}[group_by]
    fields = {SALES_METRICS[m] for m in metrics if m in SALES_METRICS} | (
        {"gross_revenue", "orders"} if "average_order_value" in metrics else set())
    rows = {r["key"]: r for r in DailySales.objects.filter(_in(period), currency=currency).order_by()
            .annotate(key=bucket).values("key").annotate(**{f: Sum(f) for f in fields})}
    if "customers" in metrics:
        for r in (DailyCustomer.objects.filter(_in(period), currency=currency).order_by().annotate(key=bucket)
                  .values("key").annotate(customers=Count("customer_id", distinct=True))):
            rows.setdefault(r["key"], {"key": r["key"]})["customers"] = r["customers"]
    if "conversion_rate" in metrics:
        for r in (DailyFunnel.objects.filter(_in(period)).order_by().annotate(key=bucket).values("key")
                  .annotate(sessions=Sum("sessions"), ordered=Sum("ordered"))):
            rows.setdefault(r["key"], {"key": r["key"]})["conversion_rate"] = ratio(r["ordered"] * 100, r["sessions"])
    result = []
    for key in sorted(rows):
        r = rows[key]
        out = {"key": key.isoformat() if hasattr(key, "isoformat") else str(key)}
        for m in metrics:
            if m == "average_order_value":
                out[m] = ratio(r.get("gross_revenue") or 0, r.get("orders") or 0)
            elif m in ("customers", "conversion_rate"):
                out[m] = r.get(m, 0 if m == "customers" else None)
            else:
                value = r.get(SALES_METRICS[m]) or 0
                out[m] = value.quantize(PENNY) if isinstance(value, Decimal) else value
        result.append(out)
    return result
