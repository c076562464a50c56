"""Analytics: how long the whole UCI Online Retail import and a full rollup rebuild take on
PostgreSQL, what the dashboard costs for a month and for a year, and what recording an event costs
a page, each next to a reference measured in the same run.

Run from the repository root (PostgreSQL on 127.0.0.1 and Redis needed):

    .venv/bin/python benchmarks/analytics.py
    .venv/bin/python benchmarks/analytics.py --database ishop_bench_analytics --redis-url redis://127.0.0.1:6379/13

It creates the database --database afresh (its name must start with "ishop_bench"), migrates it,
and drops it at the end (--keep keeps it). Redis db --redis-url must be empty (the event buffer
key is deleted at the end).

Figures and their references:

* import: `import_orders` on the whole file (541,909 lines), against (a) a plain csv-module pass
  over the gzip file (reading floor) and (b) COPY of every raw line into an unlogged text table
  (the database's floor for these bytes). Target: under 90 s.
* rebuild: `rebuild_analytics` over the whole history, twice (the tables must be identical),
  against one full scan aggregating every order line joined to its order. Target: under 30 s.
* dashboard: /staff/analytics/ for the last 30 days of the history and for the whole year 2011
  (median of 5), with the query count, against the page rendered with empty rollups.
* events: `events.record()` per call (buffered to Redis) against `Event.objects.create()` (what
  a synchronous write would cost every page view), 5,000 calls each.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CSV = BASE_DIR.parent / "shared" / "data" / "online-retail" / "online_retail.csv.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--database", default="ishop_bench_analytics")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not args.database.startswith("ishop_bench"):
        parser.error("--database must start with ishop_bench (it is dropped and created)")

    import psycopg
    import redis

    if redis.Redis.from_url(args.redis_url).dbsize():
        parser.error(f"Redis {args.redis_url} is not empty")
    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        admin.execute(f'CREATE DATABASE "{args.database}"')
    os.environ.update(DATABASE_URL=f"{args.pg}/{args.database}", REDIS_URL=args.redis_url,
                      DJANGO_SETTINGS_MODULE="shop.settings", DJANGO_LOG_LEVEL="WARNING")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    load = os.getloadavg()
    print(f"analytics benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the start")
    try:
        run(args)
    finally:
        redis.Redis.from_url(args.redis_url).delete("analytics:events")
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
    return 0


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def run(args) -> None:
    from django.db import connection

    from analytics.importer import import_orders
    from analytics.rollups import rebuild, snapshot

    # --- import ----------------------------------------------------------------------------
    def read_floor():
        with gzip.open(args.csv, "rt", newline="", encoding="utf-8") as handle:
            return sum(1 for _ in csv.reader(handle)) - 1

    read_s, lines = timed(read_floor)

    def copy_floor():
        with connection.cursor() as cursor:
            cursor.execute("CREATE UNLOGGED TABLE bench_raw (invoice text, code text, description text, quantity text,"
                           " invoice_date text, price text, customer text, country text)")
            with gzip.open(args.csv, "rt", newline="", encoding="utf-8") as handle, \
                    cursor.cursor.copy("COPY bench_raw FROM STDIN") as copy:
                reader = csv.reader(handle)
                next(reader)
                for row in reader:
                    copy.write_row(row)
            cursor.execute("DROP TABLE bench_raw")

    copy_s, _ = timed(copy_floor)
    import_s, summary = timed(lambda: import_orders(args.csv, progress=False))
    again_s, again = timed(lambda: import_orders(args.csv, progress=False))
    print(f"\nimport of {lines:,} lines ({summary.sales_invoices:,} orders, {summary.credit_notes:,} credit notes, "
          f"{summary.order_lines + summary.credit_note_lines:,} lines)")
    print(f"  {'csv-module read (floor)':42} {read_s:7.1f} s")
    print(f"  {'COPY of the raw lines (floor)':42} {copy_s:7.1f} s")
    print(f"  {'import_orders':42} {import_s:7.1f} s   = {import_s / (read_s + copy_s):.1f}x the two floors; "
          f"target < 90 s: {'met' if import_s < 90 else 'NOT met'}")
    print(f"  {'import_orders again (nothing new)':42} {again_s:7.1f} s   ({again.already_imported:,} invoices left alone)")

    # --- rebuild ---------------------------------------------------------------------------
    def scan_floor():
        with connection.cursor() as cursor:
            cursor.execute("SELECT o.currency, count(*), sum(l.quantity), sum(l.line_total) FROM orders_orderline l "
                           "JOIN orders_order o ON o.id = l.order_id GROUP BY o.currency")
            return cursor.fetchall()

    scan_s, _ = timed(scan_floor)
    first_s, result = timed(rebuild)
    before = snapshot()
    second_s, _ = timed(rebuild)
    same = snapshot() == before
    print(f"\nrebuild of {result.start} .. {result.end}: " + ", ".join(f"{k} {v:,}" for k, v in result.rows.items()))
    print(f"  {'one aggregate scan of all lines (floor)':42} {scan_s:7.1f} s")
    print(f"  {'rebuild_analytics, first':42} {first_s:7.1f} s   = {first_s / scan_s:.0f}x the scan; "
          f"target < 30 s: {'met' if first_s < 30 else 'NOT met'}")
    print(f"  {'rebuild_analytics, second':42} {second_s:7.1f} s   tables identical: {same}")

    # --- dashboard -------------------------------------------------------------------------
    from django.db import reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.create_user(email="bench-staff@example.com", is_staff=True))

    def page(params):
        times = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get("/staff/analytics/", params)
                times.append(time.perf_counter() - started)
            assert response.status_code == 200
            count = len(queries)
        reset_queries()
        return statistics.median(times) * 1000, count

    empty = page({"range": "custom", "start": "2001-01-01", "end": "2001-12-31"})
    month = page({"range": "custom", "start": "2011-11-10", "end": "2011-12-09"})
    year = page({"range": "custom", "start": "2011-01-01", "end": "2011-12-31"})
    print("\ndashboard /staff/analytics/ (median of 5)")
    for label, (ms, count) in (("a year with no data (reference)", empty), ("the last 30 days of history", month),
                               ("the whole of 2011", year)):
        print(f"  {label:42} {ms:7.1f} ms  {count} queries")

    # --- events ----------------------------------------------------------------------------
    from analytics import events
    from analytics.models import Event

    n = 5000
    record_s, _ = timed(lambda: [events.record("product_viewed", session_id="b" * 32, data={"product_id": 1})
                                 for _ in range(n)])
    from django.utils import timezone

    create_s, _ = timed(lambda: [Event.objects.create(event_type="product_viewed", timestamp=timezone.now(),
                                                      session_id="b" * 32, data={"product_id": 1}) for _ in range(n)])
    flush_s, flushed = timed(events.flush)
    print(f"\nevents ({n:,} each)")
    print(f"  {'Event.objects.create per view (reference)':42} {create_s / n * 1e6:7.0f} µs")
    print(f"  {'events.record per view (Redis RPUSH)':42} {record_s / n * 1e6:7.0f} µs   "
          f"= {record_s / create_s:.2f}x the reference")
    print(f"  {'flush (bulk insert), per event':42} {flush_s / max(flushed, 1) * 1e6:7.0f} µs   ({flushed:,} events)")
    print("\nThe machine is shared: figures measured while other work runs are slower and noisier.")


if __name__ == "__main__":
    sys.exit(main())
