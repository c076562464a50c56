"""Recompute the daily rollup tables from orders, their status history and the event log.

`rebuild(start=, end=)` deletes the rows of the days in [start, end] and recomputes them with
set-based SQL (GROUP BY queries written with the ORM; the big per-product table is one
INSERT ... SELECT over a UNION ALL), so its cost is a few scans of the range, not a Python loop
over orders. Running it twice gives the same rows. One rebuild runs at a time (a PostgreSQL
advisory lock), so the beat's refresh and a manual rebuild cannot interleave.

What is owed: a rebuild also moves the watermark (models.RollupWatermark) past every day it covered
that had ended, CLOSE_GRACE before it read the data, when its range joins the days already closed.
`catch_up()` rebuilds the days after the watermark through today, so that days missed while no
worker ran (a worker down over midnight, or for a week) are completed as soon as one runs again.

Definitions (money in the order's currency, summed per currency only):
- A *credit note* is an order created already refunded (its first status change is "" ->
  refunded): the imported `C` invoices. It is never a sale; it is a refund on the day it was made.
- An *unpaid checkout* is an order placed pending payment that was never paid (declined,
  abandoned, or cancelled when its payment time ran out, issue 25): nothing was sold, so it is
  neither a sale nor a cancellation. While it waits for its payment it is not a sale yet; once
  paid it is one, on the day it was created (the rebuild that runs after the payment counts it).
- A *sale* is any other order, counted on the day it was created, whatever happened to it later.
- A *cancellation* / *refund* is a status change to cancelled / refunded of a sale, counted on the
  day of the change with the order's whole total (and its lines for the per-product returns).
- Net revenue = gross revenue of sales - cancelled value - refunded value.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, DecimalField, Exists, F, Min, OuterRef, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from orders.models import Order, OrderLine, OrderStatusChange

from .models import (DailyCountry, DailyCustomer, DailyFunnel, DailyProduct, DailyRecommendation, DailySales, Event,
                     RollupWatermark)

ZERO = Decimal("0.00")
RETURN_STATUSES = (Order.Status.CANCELLED, Order.Status.REFUNDED)
ROLLUP_MODELS = (DailySales, DailyCustomer, DailyProduct, DailyCountry, DailyFunnel, DailyRecommendation)
_LOCK_KEY = 0x15_40_A1  # pg_advisory_xact_lock key for rebuilds
# A day is final once this long after its end: events reach the table within seconds (the 10 s
# flush, ANALYTICS_BATCH_SECONDS) and an order placed at 23:59:59 commits within a request.
CLOSE_GRACE = timedelta(minutes=10)


def credit_note_exists(order_ref: str = "pk") -> Exists:
    """Exists(): the order at OuterRef(`order_ref`) is a credit note (created as refunded)."""
    return Exists(OrderStatusChange.objects.filter(order=OuterRef(order_ref), from_status="",
                                                   to_status=Order.Status.REFUNDED))


def unpaid_checkout(order_ref: str = "pk") -> Q:
    """Q(): the order at OuterRef(`order_ref`) was placed pending payment and has never been paid."""
    placed_unpaid = OrderStatusChange.objects.filter(order=OuterRef(order_ref), from_status="",
                                                     to_status=Order.Status.PENDING_PAYMENT)
    paid = OrderStatusChange.objects.filter(order=OuterRef(order_ref), to_status=Order.Status.PAID)
    return Q(Exists(placed_unpaid)) & ~Q(Exists(paid))


def is_sale(order_ref: str = "pk") -> Q:
    """Q(): the order at OuterRef(`order_ref`) is a sale: neither a credit note nor an unpaid checkout."""
    return ~Q(credit_note_exists(order_ref)) & ~unpaid_checkout(order_ref)


def sales_orders():
    """Orders that are sales (not credit notes, not unpaid checkouts), as a QuerySet."""
    return Order.objects.filter(is_sale())


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) as aware datetimes in the shop's TIME_ZONE."""
    zone = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))


def history_start() -> date | None:
    """The first day with an order or an event, or None when there is neither."""
    firsts = [Order.objects.aggregate(first=Min("created_at"))["first"],
              Event.objects.aggregate(first=Min("timestamp"))["first"]]
    firsts = [timezone.localdate(value) for value in firsts if value is not None]
    return min(firsts) if firsts else None


@dataclass
class RebuildResult:
    """What a rebuild covered (inclusive days) and how many rows each table got."""

    start: date | None
    end: date | None
    rows: dict[str, int]


@transaction.atomic
def rebuild(*, start: date | None = None, end: date | None = None) -> RebuildResult:
    """Recompute every rollup table for the days start..end (inclusive, shop TIME_ZONE).

    start defaults to the first day with data, end to today. Rows outside the range are left alone,
    except that customers' "new" flags (and the new/returning counts on DailySales) are refreshed
    for every day from `start` on, since an earlier first order changes them. Raises ValueError
    when start > end. Returns the range and the number of rows written per table.
    """
    start = start or history_start()
    end = end or timezone.localdate()
    if start is None:
        return RebuildResult(None, None, {})
    if start > end:
        raise ValueError(f"--from {start} is after --to {end}.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            # The per-product GROUP BY sorts ~0.5 M rows of a year: in memory, not in temp files.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
    read_from = timezone.now()  # the data read below is at least this recent
    lo, hi = day_bounds(start, end)
    for model in ROLLUP_MODELS:
        model.objects.filter(day__gte=start, day__lte=end).delete()
    _customers(lo, hi)
    DailyCustomer.objects.filter(day__gte=start).update(is_new=~Exists(
        DailyCustomer.objects.filter(customer_id=OuterRef("customer_id"), day__lt=OuterRef("day"))))
    _sales(lo, hi)
    _refresh_customer_counts(start)
    _products(lo, hi)
    _countries(lo, hi)
    _funnel(lo, hi)
    _recommendations(lo, hi)
    rows = {model.__name__: model.objects.filter(day__gte=start, day__lte=end).count() for model in ROLLUP_MODELS}
    _advance_watermark(start, end, read_from)
    return RebuildResult(start, end, rows)


def _advance_watermark(start: date, end: date, read_from: datetime) -> None:
    """Close the days of [start, end] that had ended CLOSE_GRACE before `read_from`, if the range
    joins the days already closed (or, with none closed, begins at the first day with data)."""
    final = min(end, timezone.localdate(read_from - CLOSE_GRACE) - timedelta(days=1))
    mark, _ = RollupWatermark.objects.get_or_create(pk=1)
    closed = mark.closed_through
    joins = start <= closed + timedelta(days=1) if closed else start <= (history_start() or start)
    if joins and (closed is None or final > closed):
        mark.closed_through = final
        mark.save(update_fields=["closed_through", "updated_at"])


def catch_up() -> RebuildResult:
    """Rebuild every day whose rollups are still owed: the days after the watermark (from the first
    day with data when none is closed yet) through today, in one rebuild. Idempotent; run by a
    worker when it starts (settings.CELERY_WORKER_READY_TASKS) and by beat's refresh. Returns what
    rebuild() returns (an empty result when there is no data)."""
    today = timezone.localdate()
    closed = RollupWatermark.objects.filter(pk=1).values_list("closed_through", flat=True).first()
    start = min(closed + timedelta(days=1), today) if closed else None
    return rebuild(start=start, end=today)


def _insert_select(model, fields: list[str], sql: str, params) -> None:
    """INSERT INTO model's table (fields' columns) <sql>."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {qn(model._meta.db_table)} ({columns}) {sql}", params)


def _customers(lo: datetime, hi: datetime) -> None:
    query = (sales_orders().filter(customer__isnull=False, created_at__gte=lo, created_at__lt=hi).order_by()
             .annotate(d=TruncDate("created_at"), cur=F("currency"), cid=F("customer_id"))
             .values("d", "cur", "cid")
             .annotate(n=Count("pk"), revenue=Sum("total"), new=Value(False))
             .values_list("d", "cur", "cid", "n", "revenue", "new"))
    _insert_select(DailyCustomer, ["day", "currency", "customer_id", "orders", "revenue", "is_new"],
                   *query.query.sql_with_params())


def _sales(lo: datetime, hi: datetime) -> None:
    rows: dict[tuple, DailySales] = {}

    def row(day, currency) -> DailySales:
        key = (day, currency)
        if key not in rows:
            rows[key] = DailySales(day=day, currency=currency)
        return rows[key]

    for r in (sales_orders().filter(created_at__gte=lo, created_at__lt=hi).order_by()
              .annotate(d=TruncDate("created_at")).values("d", "currency")
              .annotate(n=Count("pk"), guests=Count("pk", filter=Q(customer__isnull=True)), gross=Sum("total"))):
        sales = row(r["d"], r["currency"])
        sales.orders, sales.guest_orders, sales.gross_revenue = r["n"], r["guests"], r["gross"] or ZERO
    for r in (OrderLine.objects.filter(is_sale("order_id"), variant__isnull=False,
                                       order__created_at__gte=lo, order__created_at__lt=hi).order_by()
              .annotate(d=TruncDate("order__created_at")).values("d", "order__currency")
              .annotate(units=Sum("quantity"))):
        row(r["d"], r["order__currency"]).units = r["units"] or 0
    for r in (OrderStatusChange.objects.filter(~unpaid_checkout("order_id"), to_status__in=RETURN_STATUSES,
                                               changed_at__gte=lo, changed_at__lt=hi)
              .order_by().annotate(d=TruncDate("changed_at")).values("d", "order__currency", "to_status")
              .annotate(n=Count("pk"), value=Sum("order__total"))):
        sales = row(r["d"], r["order__currency"])
        if r["to_status"] == Order.Status.CANCELLED:
            sales.cancellations, sales.cancelled_value = r["n"], r["value"] or ZERO
        else:
            sales.refunds, sales.refunded_value = r["n"], r["value"] or ZERO
    for sales in rows.values():
        sales.net_revenue = sales.gross_revenue - sales.cancelled_value - sales.refunded_value
    DailySales.objects.bulk_create(rows.values(), batch_size=1000)


def _refresh_customer_counts(start: date) -> None:
    """customers / new / returning on DailySales from DailyCustomer, for every day from `start`."""
    counts = {(r["day"], r["currency"]): r for r in DailyCustomer.objects.filter(day__gte=start).order_by()
              .values("day", "currency").annotate(n=Count("pk"), new=Count("pk", filter=Q(is_new=True)))}
    changed = []
    for sales in DailySales.objects.filter(day__gte=start):
        r = counts.get((sales.day, sales.currency), {"n": 0, "new": 0})
        values = (r["n"], r["new"], r["n"] - r["new"])
        if (sales.customers, sales.new_customers, sales.returning_customers) != values:
            sales.customers, sales.new_customers, sales.returning_customers = values
            changed.append(sales)
    DailySales.objects.bulk_update(changed, ["customers", "new_customers", "returning_customers"], batch_size=1000)


def _products(lo: datetime, hi: datetime) -> None:
    zero_int, zero_money = Value(0, output_field=BigIntegerField()), Value(ZERO, output_field=DecimalField())
    columns = ["d", "cur", "pid", "views", "carts", "n", "units", "revenue", "ret_units", "ret_value"]
    sold = (OrderLine.objects.filter(is_sale("order_id"), variant__isnull=False,
                                     order__created_at__gte=lo, order__created_at__lt=hi).order_by()
            .annotate(d=TruncDate("order__created_at"), cur=F("order__currency"), pid=F("variant__product_id"))
            .values("d", "cur", "pid")
            .annotate(views=zero_int, carts=zero_int, n=Count("order_id", distinct=True), units=Sum("quantity"),
                      revenue=Sum("line_total"), ret_units=zero_int, ret_value=zero_money)
            .values_list(*columns))
    returned = (OrderStatusChange.objects.filter(~unpaid_checkout("order_id"), to_status__in=RETURN_STATUSES,
                                                 changed_at__gte=lo, changed_at__lt=hi)
                .order_by().annotate(d=TruncDate("changed_at"), cur=F("order__currency"),
                                     pid=F("order__lines__variant__product_id"))
                .filter(pid__isnull=False).values("d", "cur", "pid")
                .annotate(views=zero_int, carts=zero_int, n=zero_int, units=zero_int, revenue=zero_money,
                          ret_units=Sum("order__lines__quantity"), ret_value=Sum("order__lines__line_total"))
                .values_list(*columns))
    activity = (Event.objects.filter(event_type__in=[Event.Type.PRODUCT_VIEWED, Event.Type.CART_UPDATED],
                                     timestamp__gte=lo, timestamp__lt=hi).order_by()
                .annotate(d=TruncDate("timestamp"), cur=Value(settings.SHOP_CURRENCY),
                          pid=Cast(KT("data__product_id"), BigIntegerField()))
                .filter(pid__isnull=False).values("d", "cur", "pid")
                .annotate(views=Count("pk", filter=Q(event_type=Event.Type.PRODUCT_VIEWED)),
                          carts=Count("pk", filter=Q(event_type=Event.Type.CART_UPDATED, data__action="add")),
                          n=zero_int, units=zero_int, revenue=zero_money, ret_units=zero_int, ret_value=zero_money)
                .values_list(*columns))
    parts = [query.query.sql_with_params() for query in (sold, returned, activity)]
    union = " UNION ALL ".join(f"SELECT * FROM ({sql}) AS p{i}" for i, (sql, _) in enumerate(parts))
    params = [param for _, part_params in parts for param in part_params]
    _insert_select(
        DailyProduct,
        ["day", "currency", "product", "views", "add_to_carts", "orders", "units", "revenue", "returned_units",
         "returned_value", "net_revenue"],
        f"SELECT d, cur, pid, SUM(views), SUM(carts), SUM(n), SUM(units), SUM(revenue), SUM(ret_units), "
        f"SUM(ret_value), SUM(revenue) - SUM(ret_value) FROM ({union}) AS parts GROUP BY d, cur, pid",
        params)


def _countries(lo: datetime, hi: datetime) -> None:
    rows: dict[tuple, DailyCountry] = {}
    for r in (sales_orders().filter(created_at__gte=lo, created_at__lt=hi).order_by()
              .annotate(d=TruncDate("created_at")).values("d", "currency", "shipping_country")
              .annotate(n=Count("pk"), gross=Sum("total"))):
        rows[(r["d"], r["currency"], r["shipping_country"])] = DailyCountry(
            day=r["d"], currency=r["currency"], country=r["shipping_country"], orders=r["n"], gross_revenue=r["gross"])
    for r in (OrderStatusChange.objects.filter(~unpaid_checkout("order_id"), to_status__in=RETURN_STATUSES,
                                               changed_at__gte=lo, changed_at__lt=hi)
              .order_by().annotate(d=TruncDate("changed_at"))
              .values("d", "order__currency", "order__shipping_country").annotate(value=Sum("order__total"))):
        key = (r["d"], r["order__currency"], r["order__shipping_country"])
        country = rows.setdefault(key, DailyCountry(day=key[0], currency=key[1], country=key[2]))
        country.returned_value = r["value"] or ZERO
    for country in rows.values():
        country.net_revenue = country.gross_revenue - country.returned_value
    DailyCountry.objects.bulk_create(rows.values(), batch_size=1000)


def _funnel(lo: datetime, hi: datetime) -> None:
    def sessions(event_type=None, **data):
        condition = Q(event_type=event_type, **{f"data__{k}": v for k, v in data.items()}) if event_type else None
        return Count("session_id", distinct=True, filter=condition)

    DailyFunnel.objects.bulk_create(
        DailyFunnel(day=r["d"], sessions=r["sessions"], viewed=r["viewed"], carted=r["carted"],
                    checkout=r["checkout"], ordered=r["ordered"])
        for r in Event.objects.filter(timestamp__gte=lo, timestamp__lt=hi).exclude(session_id="").order_by()
        .annotate(d=TruncDate("timestamp")).values("d")
        .annotate(sessions=sessions(), viewed=sessions(Event.Type.PRODUCT_VIEWED),
                  carted=sessions(Event.Type.CART_UPDATED, action="add"), checkout=sessions(Event.Type.CHECKOUT_STARTED),
                  ordered=sessions(Event.Type.ORDER_CREATED)))


def _recommendations(lo: datetime, hi: datetime) -> None:
    """Rails shown (recommendations_shown events) and clicks (product views with recommended_by) per day and rail."""
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    events = Event.objects.filter(timestamp__gte=lo, timestamp__lt=hi).order_by().annotate(d=TruncDate("timestamp"))
    for day, rail, count in (events.filter(event_type=Event.Type.RECOMMENDATIONS_SHOWN)
                             .values_list("d", KT("data__rail")).annotate(n=Count("pk"))):
        counts[day, rail][0] = count
    for day, rail, count in (events.filter(event_type=Event.Type.PRODUCT_VIEWED, data__has_key="recommended_by")
                             .values_list("d", KT("data__recommended_by")).annotate(n=Count("pk"))):
        counts[day, rail][1] = count
    DailyRecommendation.objects.bulk_create(
        DailyRecommendation(day=day, rail=str(rail)[:32], shown=shown, clicked=clicked)
        for (day, rail), (shown, clicked) in counts.items() if rail)


def snapshot() -> dict[str, list[tuple]]:
    """Every rollup row as a tuple of its values without the id, table by table, in key order:
    what "running twice gives identical tables" compares."""
    result = {}
    for model in ROLLUP_MODELS:
        names = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        result[model.__name__] = list(model.objects.order_by(*[n for n in names if n in (
            "day", "currency", "customer_id", "product_id", "country", "rail")]).values_list(*names))
    return result
