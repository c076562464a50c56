"""The back office at real scale (issue 24): the order, customer and product admin lists, each
filter, search by exact order number, email and SKU, and the order page, timed in-process with a
logged-in superuser (Django's test client, as `make run` serves them), on SQLite and PostgreSQL,
over the whole UCI Online Retail history (plus 1,000 synthetic web orders: the live shop), then
again with 100,000 synthetic web orders on top.

Run from the repository root (PostgreSQL on 127.0.0.1 for --databases postgres):

    .venv/bin/python benchmarks/admin.py                      # both databases, the whole file
    .venv/bin/python benchmarks/admin.py --limit 20000 --synthetic 2000 --runs 5   # a quick check

Prints, per database and data set, p50/p95 (ms), the p50 of this process's CPU time (ms: on a busy
machine, what the page costs without waiting for a core; PostgreSQL's own work is not in it) and
the query count of every page, next to the admin index page (the reference, measured in the same
run), then how each page's p95 moved from the history to history + synthetic orders ("flat" when
within 1.5x or 20 ms). Target: every page <= 300 ms p95 on both databases, with the same query
count on both data sets.

Data set-up is cached, keyed by --limit, --synthetic and the code that shapes the data (importer,
order factories; cached sets are migrated forward): SQLite files under --cache-dir, PostgreSQL
template databases ishop_bench_admin_*. --fresh rebuilds them. Each phase's time is printed. The measured copy is a fresh copy of the cached one (file copy / CREATE DATABASE ...
TEMPLATE), so logins and sessions never accumulate in the cache.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CSV = (Path(os.environ.get("ISHOP_DEMO_DATA") or BASE_DIR.parent / "shared" / "data")
               / "online-retail" / "online_retail.csv.gz")
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
TARGET_MS = 300.0
DATA_VERSION = 1  # bump when the rows a build writes change in a way the digests below miss
LIVE_ORDERS = 1000  # synthetic web orders in the history data set too, so the live-shop pages are full


@contextmanager
def phase(name: str):
    """Print how long the block took."""
    started = time.perf_counter()
    yield
    print(f"  [{name}: {time.perf_counter() - started:.1f} s]", flush=True)


def cache_key(args) -> str:
    """A digest of what shapes the cached rows: the options, DATA_VERSION (bump it when
    add_synthetic_orders writes other rows), the importer and the order factories. Not the
    migrations: a cached set is migrated forward before use, so a new index costs no re-import
    (--fresh rebuilds after a migration that rewrites data)."""
    digest = hashlib.sha256(f"{DATA_VERSION}:{args.limit}:{args.synthetic}:{args.csv}".encode())
    for source in (BASE_DIR / "analytics" / "importer.py", BASE_DIR / "orders" / "tests" / "factories.py"):
        digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()[:10]


def subset_csv(args) -> Path:
    """The file to import: the whole CSV, or its first --limit lines (written once to the cache)."""
    if not args.limit:
        return args.csv
    path = args.cache_dir / f"online_retail_first_{args.limit}.csv"
    if not path.exists():
        with gzip.open(args.csv, "rt", encoding="utf-8", newline="") as source, \
                open(path, "w", encoding="utf-8", newline="") as target:
            writer = csv.writer(target)
            for n, row in enumerate(csv.reader(source)):
                if n > args.limit:
                    break
                writer.writerow(row)
    return path


# --- The parent: one child process per database and data set --------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgres", help="comma separated: sqlite, postgres")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--limit", type=int, default=0, help="import only the first N lines (0: all)")
    parser.add_argument("--synthetic", type=int, default=100_000, help="synthetic web orders added on top")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (after one warm-up)")
    parser.add_argument("--cache-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "ishop_bench_admin")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached data sets")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # "<database>:<stage>:<task>" of a child process
    args = parser.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    if args.child:
        return child(args)
    load = os.getloadavg()
    print(f"admin benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; history: {args.limit or 'all'} lines, "
          f"synthetic: {args.synthetic} orders, {args.runs} runs per page, cache key {cache_key(args)}")
    results = {}
    for database in [d.strip() for d in args.databases.split(",") if d.strip()]:
        for stage in ("history", "synthetic"):
            print(f"\n== {database}, {stage} ==", flush=True)
            out = args.cache_dir / f"result-{database}-{stage}.json"
            for task in ("build", "measure"):
                command = [sys.executable, __file__, "--child", f"{database}:{stage}:{task}", "--csv", str(args.csv),
                           "--limit", str(args.limit), "--synthetic", str(args.synthetic), "--runs", str(args.runs),
                           "--cache-dir", str(args.cache_dir)] + (["--fresh"] if args.fresh else [])
                subprocess.run(command, check=True)
            results[database, stage] = json.loads(out.read_text())
        report_flat(database, results[database, "history"], results[database, "synthetic"])
    return 0


def report_flat(database: str, before: dict, after: dict) -> None:
    """Each page's p95 and process CPU p50 on the history against history + synthetic orders:
    "flat" when within 1.5x or 20 ms with the same query count (on a busy machine p95 is mostly
    time spent waiting for a core, so the CPU verdict is the one to read there)."""
    def flat(old: float, new: float) -> str:
        return "flat" if new <= max(old * 1.5, old + 20) else "NOT FLAT"

    print(f"\n{database}: with the history -> with the synthetic orders too")
    for name, row in before.items():
        other = after[name]
        same = "" if other["queries"] == row["queries"] else "  QUERY COUNT CHANGED"
        print(f"  {name:44s} p95 {row['p95']:7.1f} -> {other['p95']:7.1f} ms {flat(row['p95'], other['p95']):8s}"
              f"  cpu {row.get('cpu', 0):6.1f} -> {other.get('cpu', 0):6.1f} ms {flat(row.get('cpu', 0), other.get('cpu', 0)):8s}"
              f"  queries {row['queries']:>2} -> {other['queries']:>2}{same}")


# --- A child: one database, one data set, one task (build the cache, or measure) ----------------

def child(args) -> int:
    """`--child <database>:<stage>:<task>`: build the cached data set (a no-op when cached), or
    measure a fresh copy of it (logins and sessions never reach the cache). Django is set up once
    per process, on one database."""
    database, stage, task = args.child.split(":")
    key = cache_key(args)
    names = {s: f"ishop_bench_admin_{s}_{key}" for s in ("history", "synthetic", "run")}
    store = SqliteFiles(args.cache_dir) if database == "sqlite" else Postgres()
    if task == "measure":
        with phase("copy the cached data set for this run"):
            store.copy(names[stage], names["run"])
        setup_django(store.url(names["run"]))
        with phase("measure"):
            results = measure(args.runs)
        (args.cache_dir / f"result-{database}-{stage}.json").write_text(json.dumps(results))
        from django.db import connections

        connections.close_all()
        store.drop(names["run"])
        return 0
    if args.fresh and stage == "history":
        store.drop(names["history"])
        store.drop(names["synthetic"])
    if store.exists(names[stage]):
        print(f"  {stage}: cached ({names[stage]})")
        setup_django(store.url(names[stage]))
        with phase("migrate the cached set forward"):
            if migrate():
                close_and_analyze()
        return 0
    if stage == "history":
        store.create(names["history"])
        setup_django(store.url(names["history"]))
        with phase("migrate"):
            migrate()
        with phase(f"import {args.limit or 'all'} lines"):
            from analytics.importer import import_orders

            summary = import_orders(subset_csv(args), progress=False)
            print(f"  {summary.sales_invoices} orders, {summary.customers_created} customers, "
                  f"{summary.products_created} products imported")
        with phase(f"add {LIVE_ORDERS} synthetic web orders (the live shop)"):
            add_synthetic_orders(LIVE_ORDERS)
    else:
        with phase("copy the history"):
            store.copy(names["history"], names["synthetic"])
        setup_django(store.url(names["synthetic"]))
        with phase(f"add {args.synthetic} synthetic orders"):
            add_synthetic_orders(args.synthetic, first=LIVE_ORDERS)
    with phase("(VACUUM) ANALYZE"):
        close_and_analyze()
    return 0


def migrate() -> bool:
    """Apply the project's unapplied migrations to the configured database; True if any ran."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        print(f"  applying {len(pending)} migration(s), the last {pending[-1][0].app_label}.{pending[-1][0].name}")
        call_command("migrate", verbosity=0)
    return bool(pending)


def setup_django(database_url: str) -> None:
    """Configure Django on `database_url` as `make run` does (no Redis: locmem cache, eager Celery)."""
    os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="shop.settings", DJANGO_LOG_LEVEL="WARNING")
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


class SqliteFiles:
    """Data sets as SQLite files in the cache folder."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.sqlite3"

    def url(self, name: str) -> str:
        return f"sqlite:///{self.path(name)}"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def create(self, name: str) -> None:
        self.drop(name)

    def drop(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path(name)}{suffix}").unlink(missing_ok=True)

    def copy(self, source: str, target: str) -> None:
        """SQLite's online backup: the copy holds what a WAL file not yet checkpointed holds too."""
        self.drop(target)
        with closing(sqlite3.connect(self.path(source))) as origin, \
                closing(sqlite3.connect(self.path(target))) as copy:
            origin.backup(copy)


class Postgres:
    """Data sets as PostgreSQL databases; a copy is CREATE DATABASE ... TEMPLATE (a file copy)."""

    def _run(self, sql: str) -> list:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def url(self, name: str) -> str:
        return f"{PG_SERVER}/{name}"

    def exists(self, name: str) -> bool:
        return bool(self._run(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))

    def create(self, name: str) -> None:
        self.drop(name)
        self._run(f'CREATE DATABASE "{name}"')

    def drop(self, name: str) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{name}"')

    def copy(self, source: str, target: str) -> None:
        self.drop(target)
        self._run(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


def close_and_analyze() -> None:
    """Planner statistics and, on PostgreSQL, the visibility map (VACUUM ANALYZE, as autovacuum
    would do after a bulk load: without it a COUNT reads every heap page instead of the index
    alone), then close, so the file or template can be copied."""
    from django.db import connection, connections

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    connections.close_all()


def add_synthetic_orders(count: int, first: int = 0, batch: int = 5000) -> None:
    """`count` web orders from the order factories (orders.tests.factories), numbered on from
    `first`, built in memory and written with bulk_create: two lines each over 500 SKUs, half of
    them by one of 1,000 web customers, a mix of statuses, shipping countries and methods."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from orders.models import Order, OrderLine, OrderStatusChange
    from orders.tests.factories import OrderFactory, OrderLineFactory

    password = make_password(None)
    User.objects.bulk_create([User(email=f"synthetic{n}@example.com", password=password) for n in range(1000)],
                             ignore_conflicts=True)
    OrderFactory.reset_sequence(first)
    customers = list(User.objects.filter(email__startswith="synthetic").values_list("pk", flat=True))
    statuses = [Order.Status.PAID, Order.Status.FULFILLED, Order.Status.DELIVERED, Order.Status.CANCELLED]
    for start in range(0, count, batch):
        orders = [OrderFactory.build(customer_id=customers[n % len(customers)] if n % 2 else None,
                                     status=statuses[n % len(statuses)], item_count=4, line_count=2,
                                     shipping_method="express" if n % 5 == 0 else "standard")
                  for n in range(first + start, first + min(start + batch, count))]
        Order.objects.bulk_create(orders, batch_size=1000)  # PostgreSQL takes at most 65,535 parameters
        ids = dict(Order.objects.filter(number__in=[o.number for o in orders]).values_list("number", "pk"))
        OrderLine.objects.bulk_create([OrderLineFactory.build(order_id=ids[o.number]) for o in orders for _ in (1, 2)],
                                     batch_size=1000)
        OrderStatusChange.objects.bulk_create([OrderStatusChange(order_id=ids[o.number], to_status=o.status)
                                               for o in orders], batch_size=1000)


def pages() -> list[tuple[str, str]]:
    """(name, URL) of every page measured; search terms taken from the data."""
    from django.db.models import Count
    from django.urls import reverse

    from accounts.models import User
    from orders.models import Order, OrderLine

    orders, users, products = (reverse(f"admin:{n}_changelist") for n in
                               ("orders_order", "accounts_user", "catalog_product"))
    number = Order.objects.order_by("created_at").values_list("number", flat=True).first() or "none"
    # The customer of the first order: an imported customer with orders, on both data sets.
    email = (Order.objects.filter(customer__isnull=False).order_by("created_at", "pk")
             .values_list("email", flat=True).first() or "none@example.com")
    sku = (OrderLine.objects.values("sku").annotate(n=Count("pk")).order_by("-n").values_list("sku", flat=True)
           .first() or "none")
    biggest = Order.objects.order_by("-line_count").values_list("pk", flat=True).first()
    typical = Order.objects.order_by("pk").values_list("pk", flat=True).first()
    year = Order.objects.order_by("created_at").values_list("created_at__year", flat=True).first() or 2011
    rows = [("reference: admin index", reverse("admin:index")),
            ("orders: live shop (default)", orders), ("orders: history", orders + "?source=online-retail"),
            ("orders: everything", orders + "?source=all")]
    for name, query in [("status paid", "status__exact=paid"), ("status delivered", "status__exact=delivered"),
                        ("country GB", "shipping_country__exact=GB"),
                        ("method standard", "shipping_method__exact=standard"),
                        ("provider online-retail", "payment_provider__exact=online-retail"),
                        ("created past 7 days", "created_at__gte=2011-12-02+00:00:00%2B00:00"),
                        ("year of the first order", f"created_at__gte={year}-01-01+00:00:00%2B00:00"
                                                    f"&created_at__lt={year + 1}-01-01+00:00:00%2B00:00")]:
        rows.append((f"orders: {name}", f"{orders}?source=all&{query}"))
    rows += [("orders: search number", f"{orders}?q={number}"), ("orders: search email", f"{orders}?q={email}"),
             ("orders: search email part", f"{orders}?q={email.split('@')[0][-8:]}@"),
             ("orders: search SKU", f"{orders}?q={sku}"),
             ("customers: live shop (default)", users), ("customers: history", users + "?source=online-retail"),
             ("customers: search email", f"{users}?q={email}"), ("customers: is_staff", users + "?is_staff__exact=0"),
             ("products: live shop (default)", products), ("products: history", products + "?source=online-retail"),
             ("products: search SKU", f"{products}?q={sku}"), ("products: visible", products + "?is_visible__exact=1")]
    rows += [("staff: dashboard", reverse("analytics:staff_dashboard")),
             ("staff: analytics (default)", reverse("analytics:dashboard")),
             ("staff: analytics, 90 days", reverse("analytics:dashboard") + "?range=90"),
             ("staff: analytics, first year GBP", reverse("analytics:dashboard") +
              f"?range=custom&start={year}-01-01&end={year}-12-31&currency=GBP")]
    if biggest:
        rows += [("order page: most lines", reverse("admin:orders_order_change", args=[biggest])),
                 ("order page: first order", reverse("admin:orders_order_change", args=[typical]))]
    return rows


def measure(runs: int) -> dict:
    """p50/p95 wall time, p50 process CPU time (ms) and the query count of every page, one warm-up
    request each."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.models import User

    setup_test_environment()
    client = Client()
    client.force_login(User.objects.create_superuser(email="bench-boss@example.com", password=None))
    results = {}
    print(f"  {'page':44s} {'p50':>8s} {'p95':>8s} {'cpu p50':>8s} {'queries':>8s} {'p50/ref':>8s}")
    reference = None
    for name, url in pages():
        response = client.get(url)  # warm-up
        if response.status_code != 200:
            raise SystemExit(f"{name}: {url} answered {response.status_code}")
        captured = []
        with connection.execute_wrapper(lambda execute, sql, *rest: captured.append(sql) or execute(sql, *rest)):
            client.get(url)
        times, cpu = [], []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        p50 = statistics.median(times)
        p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
        reference = reference or p50  # the first page is the reference
        results[name] = {"p50": p50, "p95": p95, "cpu": statistics.median(cpu), "queries": len(captured), "url": url}
        over = "  OVER TARGET" if p95 > TARGET_MS and not name.startswith("reference") else ""
        print(f"  {name:44s} {p50:8.1f} {p95:8.1f} {results[name]['cpu']:8.1f} {len(captured):8d} "
              f"{p50 / reference:7.1f}x{over}", flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
