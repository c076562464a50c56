"""Peer run: iShop against django-oscar 4.2 (Django 5.2) on the same catalogue, the same PostgreSQL
and Redis and the same server, page by page, uncached. Target (issue 22): iShop >= 5x Oscar on each page.

Run from the repository root (PostgreSQL on 127.0.0.1:5432 as user postgres, Redis on 6379, the
Luma data in ../shared/data or $ISHOP_DEMO_DATA):

    make bench-peer                                      # = the line below
    .venv/bin/python benchmarks/peer_oscar.py            # 3 rounds of 10 s per page and shop
    .venv/bin/python benchmarks/peer_oscar.py --rounds 1 --duration 5           # a smoke run
    .venv/bin/python benchmarks/peer_oscar.py --serve    # both shops up with photos, to look at

The measurement takes about 8 minutes on a quiet 2-core machine once both shops are loaded; the
first run loads them (the Oscar venv, iShop's import and renditions, Oscar's load, thumbnails and
index): 10-25 minutes more.

What it does:

1. Installs Debian's `wrk` if missing (benchmarks/wrk_harness.py's ensure_wrk) and django-oscar into its own
   venv, .bench/oscar-venv, from benchmarks/requirements-oscar.txt (again only when that file changes).
2. iShop: database `--ishop-db` (default ishop_bench_peer), migrated, the Luma catalogue and reviews
   imported with the shop's own commands and the photos' renditions made (`make demo`'s steps), media
   in .bench/ishop-media; done once, again when the product count differs from the file's, when
   .bench/ holds no stamp of that load (a database loaded from another checkout) or with
   --reload [ishop|oscar|both].
3. Oscar: database `--oscar-db` (default oscar_bench), the same file loaded as parent, child and
   standalone products with stock records, categories, the same photos and reviews
   (benchmarks/oscar_site/load_luma.py), every thumbnail the storefront templates use made, the
   Whoosh index built; also once. benchmarks/oscar_site/settings.py says how Oscar is set up and why.
4. Serves each shop in gunicorn, `--workers` sync workers (default 2), DEBUG off, PostgreSQL, Redis
   for the cache (each under its own key prefix): iShop as pages.py serves it with its page cache off
   (SHOP_PAGE_CACHE_SECONDS=0, pages.py's "uncached"), Oscar, which has no page cache, as it comes.
5. Measures with wrk (`--connections` 16) home, a category page (`--category`), a product page
   (`--product`, a SKU) and a search (`--query`) on both, alternating the shops page by page in each
   of `--rounds` rounds, each run once the previous shop has served what wrk left queued, and keeps
   each one's median run. Oscar's "/" redirects to its catalogue (OSCAR_HOMEPAGE), so Oscar's home
   is /catalogue/, the page a shopper lands on.

It prints requests per second, latency p50, server CPU milliseconds per request and iShop/Oscar for
each page. The machine's other load moves both shops' figures, so measure on a quiet machine.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import pages
import wrk_harness
from oscar_site.load_luma import browsable_count, forget_keys, read_rows

BENCH_DIR = Path(__file__).resolve().parent
STATE = pages.BASE_DIR / ".bench"
OSCAR_VENV = STATE / "oscar-venv"
OSCAR_STATE = STATE / "oscar"
ISHOP_MEDIA = STATE / "ishop-media"
REQUIREMENTS = BENCH_DIR / "requirements-oscar.txt"
PAGES = ("home", "category", "product", "search")
TARGET = 5.0  # iShop / Oscar, requests per second, each page (issue 22)


# --- Setup ---------------------------------------------------------------------------------------

def ensure_oscar_venv() -> Path:
    """Oscar's own venv, installed from the pinned requirements; reused while they are unchanged."""
    stamp = OSCAR_VENV / "requirements-installed.txt"
    if not (stamp.exists() and stamp.read_text() == REQUIREMENTS.read_text()):
        print(f"installing django-oscar into {OSCAR_VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(OSCAR_VENV)], check=True)
        subprocess.run([str(OSCAR_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(REQUIREMENTS)], check=True)
        shutil.copy(REQUIREMENTS, stamp)
    return OSCAR_VENV / "bin" / "python"


def facts(out: str) -> dict[str, str]:
    """`KEY value` lines of a child's output (other lines are progress, echoed)."""
    found = {}
    for line in out.splitlines():
        if re.match(r"^[A-Z]+ ", line):
            key, value = line.split(" ", 1)
            found[key] = value
        elif line.strip():
            print(line, flush=True)
    return found


def describe_ishop(category: str, sku: str) -> None:
    """(Child process, iShop's settings.) The product count and, once loaded, the measured paths."""
    import django

    django.setup()
    from catalog.models import Category, Product

    print(f"PRODUCTS {Product.objects.count()}")
    top, *below = category.split("/")
    node = Category.objects.filter(parent=None, name=top).first()
    for name in below:
        node = node and node.children.filter(name=name).first()
    product = Product.objects.filter(sku=sku).first()
    if node and product:
        print(f"CATEGORY {node.get_absolute_url()}")
        print(f"PRODUCT {product.get_absolute_url()}")


def empty_database(name: str) -> None:
    """Drop the benchmark database `name` (ending its sessions) and create it again, empty."""
    import psycopg

    with psycopg.connect(f"host={wrk_harness.HOST} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pages.create_database(name)


def ishop_cache_prefix(args) -> str:
    """iShop's cache keys in the shared Redis (Oscar's are peer-<its database>)."""
    return f"peer-{args.ishop_db}"


def prepare_ishop(args, data: Path) -> tuple[str, dict[str, str]]:
    """Create, migrate and (once) fill iShop's benchmark database; return its URL and its paths."""
    url = pages.create_database(args.ishop_db)
    # Loading runs without Redis, as `make demo` on the embedded default: renditions are made by
    # process_images below, not queued to a broker no worker reads.
    env = pages.django_env(url, REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="false", DJANGO_MEDIA_ROOT=str(ISHOP_MEDIA))
    manage = [pages.PYTHON, "manage.py"]
    describe = [pages.PYTHON, __file__, "--describe-ishop", args.category, args.product]
    subprocess.run([*manage, "migrate", "-v0"], cwd=pages.BASE_DIR, env=env, check=True)
    found = facts(subprocess.run(describe, cwd=pages.BASE_DIR, env=env, check=True, capture_output=True,
                                 text=True).stdout)
    expected = browsable_count(read_rows(data / "luma" / "products.csv"))
    stamp = ISHOP_MEDIA / f".loaded-{args.ishop_db}"  # the photos are here, not in the database
    if args.reload in ("ishop", "both") or not stamp.exists() or int(found["PRODUCTS"]) != expected:
        shutil.rmtree(ISHOP_MEDIA, ignore_errors=True)  # the last load's photos, if any
        ISHOP_MEDIA.mkdir(parents=True)
        if int(found["PRODUCTS"]):  # an import updates in place and would not copy the photos again
            empty_database(args.ishop_db)
            subprocess.run([*manage, "migrate", "-v0"], cwd=pages.BASE_DIR, env=env, check=True)
        print(f"importing the Luma catalogue into {args.ishop_db}", flush=True)
        subprocess.run([*manage, "import_catalog", str(data / "luma" / "products.csv"),
                        "--images", str(data / "luma" / "images")], cwd=pages.BASE_DIR, env=env, check=True)
        subprocess.run([*manage, "import_reviews", str(data / "luma" / "reviews.csv")],
                       cwd=pages.BASE_DIR, env=env, check=True)
        forget_keys(args.redis_url, ishop_cache_prefix(args))
        found = facts(subprocess.run(describe, cwd=pages.BASE_DIR, env=env, check=True, capture_output=True,
                                     text=True).stdout)
    else:
        print(f"  iShop: {expected} products already there", flush=True)
    subprocess.run([*manage, "process_images", "--missing", "--workers", "2"], cwd=pages.BASE_DIR, env=env,
                   check=True)
    stamp.touch()
    if "PRODUCT" not in found:
        sys.exit(f"iShop has no category {args.category!r} or no product {args.product!r}")
    return url, found


def oscar_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The Oscar project's environment: its settings module, DEBUG off, its own cache key prefix."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OSCAR_", "HAYSTACK_", "PYTHON"))}
    env.update(DJANGO_SETTINGS_MODULE="oscar_site.settings", DJANGO_SECRET_KEY=pages.SECRET, DJANGO_DEBUG="false",
               DATABASE_URL=database_url, REDIS_URL=redis_url, OSCAR_BENCH_STATE=str(OSCAR_STATE),
               CACHE_KEY_PREFIX=f"peer-{database_url.rsplit('/', 1)[1]}", PYTHONPATH=str(BENCH_DIR))
    env.update(extra)
    return env


def prepare_oscar(args, data: Path, python: Path) -> tuple[str, dict[str, str]]:
    """Create and (once) fill Oscar's benchmark database; return its URL and its paths."""
    url = pages.create_database(args.oscar_db)
    env = oscar_env(url, args.redis_url, HAYSTACK_SIGNAL_PROCESSOR="haystack.signals.BaseSignalProcessor")
    command = [str(python), "-m", "oscar_site.load_luma", "--csv", str(data / "luma" / "products.csv"),
               "--images", str(data / "luma" / "images"), "--reviews", str(data / "luma" / "reviews.csv"),
               "--category", args.category, "--product", args.product,
               *(["--reload"] if args.reload in ("oscar", "both") else [])]
    out = subprocess.run(command, cwd=BENCH_DIR, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return url, facts(out)


# --- Serving and measuring ------------------------------------------------------------------------

def start_servers(args, ishop_url: str, oscar_url: str, work: Path, servers: dict[str, wrk_harness.Server], *,
                  serve_media: bool) -> None:
    """Both shops in gunicorn, `args.workers` sync workers each, DEBUG off, PostgreSQL and Redis,
    into `servers` as each starts (so that the caller stops the first if the second fails)."""
    log = work / "gunicorn.log"
    static_root = str(work / "ishop-static")
    subprocess.run([pages.PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=pages.BASE_DIR, check=True,
                   env=pages.django_env(ishop_url, DJANGO_STATIC_ROOT=static_root))
    servers["iShop"] = pages.start_gunicorn(
        ishop_url, workers=args.workers, cache_seconds=0, static_root=static_root, redis_url=args.redis_url,
        log=log, DJANGO_MEDIA_ROOT=str(ISHOP_MEDIA), DJANGO_SERVE_MEDIA=str(serve_media).lower(),
        CACHE_KEY_PREFIX=ishop_cache_prefix(args))
    servers["Oscar"] = wrk_harness.serve(
        [str(OSCAR_VENV / "bin" / "gunicorn"), "oscar_site.wsgi:application", "--workers", str(args.workers),
         "--worker-class", "sync"],
        cwd=BENCH_DIR, env=oscar_env(oscar_url, args.redis_url, OSCAR_SERVE_MEDIA=str(serve_media).lower()),
        log=log)


def paths(ishop: dict[str, str], oscar: dict[str, str], query: str) -> dict[str, dict[str, str]]:
    """The measured path of each page on each shop (both search at /search/?q=)."""
    search = f"/search/?{urlencode({'q': query})}"
    return {
        "iShop": {"home": "/", "category": ishop["CATEGORY"], "product": ishop["PRODUCT"], "search": search},
        "Oscar": {"home": oscar["HOME"], "category": oscar["CATEGORY"], "product": oscar["PRODUCT"], "search": search},
    }


def settle(server: wrk_harness.Server, *, window: float = 0.5, limit: float = 120) -> None:
    """Wait until `server` has served what wrk left queued when it stopped (a slow page leaves up to
    --connections requests behind): its processes stay still for `window` seconds. Otherwise that
    work would run during, and slow, the other shop's measurement."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = wrk_harness.cpu_ticks(server.pids())
        time.sleep(window)
        if wrk_harness.cpu_ticks(server.pids()) - before <= 2:  # clock ticks (1/100 s): idle
            return


def measure_alternating(wrk: str, lua: str, servers: dict[str, wrk_harness.Server], measured: dict[str, dict[str, str]],
                        args) -> dict[tuple[str, str], wrk_harness.Result]:
    """Each page on each shop once a round, the shops alternating (iShop, Oscar, iShop, ...), each
    run after the previous server settled; the median run of each (shop, page) over the rounds."""
    runs: dict[tuple[str, str], list[wrk_harness.Result]] = {}
    for round_number in range(args.rounds):
        print(f"  round {round_number + 1}/{args.rounds}", flush=True)
        for page in PAGES:
            for shop, server in servers.items():
                url = server.url + measured[shop][page]
                runs.setdefault((shop, page), []).append(
                    wrk_harness.measure(wrk, lua, f"{page} {shop}", url, pids=server.pids(), args=args))
                settle(server)
    return {key: wrk_harness.median_result(results) for key, results in runs.items()}


def report(results: dict[tuple[str, str], wrk_harness.Result], measured: dict[str, dict[str, str]]) -> str:
    """The table: req/s, p50 (ms) and server CPU per request (ms) of each shop; iShop/Oscar req/s
    against the target; the CPU ratio (Oscar's CPU per request over iShop's, steadier under load)."""
    lines = [f"{'page':<9} {'iShop req/s':>11} {'Oscar req/s':>11} {'iShop/Oscar':>11} {'iShop p50':>9} "
             f"{'Oscar p50':>9} {'iShop CPU':>9} {'Oscar CPU':>9} {'CPU ratio':>9}   target >= {TARGET:g}"]
    for page in PAGES:
        i, o = results["iShop", page], results["Oscar", page]
        ratio = i.rps / o.rps
        cpu_ratio = o.cpu_ms / i.cpu_ms if i.cpu_ms and o.cpu_ms else float("nan")
        verdict = "ok" if ratio >= TARGET else "below target"
        lines.append(f"{page:<9} {i.rps:11.1f} {o.rps:11.1f} {ratio:11.2f} {i.p50:9.1f} {o.p50:9.1f} "
                     f"{i.cpu_ms:9.2f} {o.cpu_ms:9.2f} {cpu_ratio:9.2f}   {verdict}")
    lines.append("")
    lines.extend(f"{page:<9} iShop {measured['iShop'][page]}  |  Oscar {measured['Oscar'][page]}" for page in PAGES)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--describe-ishop", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each page and shop once a round (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", type=int, default=30,
                        help="wrk's per-request timeout in seconds (default 30: Oscar's slow pages queue for seconds)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per shop (default 2)")
    parser.add_argument("--category", default="Men/Tops/Jackets", help="category names from the top")
    parser.add_argument("--product", default="MJ01", help="SKU of the measured product (a configurable parent)")
    parser.add_argument("--query", default="jacket", help="the measured search")
    parser.add_argument("--ishop-db", default="ishop_bench_peer", help="iShop's benchmark database")
    parser.add_argument("--oscar-db", default="oscar_bench", help="Oscar's benchmark database")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
                        help="Redis for both shops' caches (each under its own key prefix)")
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("ISHOP_DEMO_DATA", pages.BASE_DIR.parent / "shared" / "data")),
                        help="folder holding luma/ (default $ISHOP_DEMO_DATA or ../shared/data)")
    parser.add_argument("--reload", nargs="?", const="both", choices=("ishop", "oscar", "both"),
                        help="load the catalogue again into iShop, Oscar or both (the default)")
    parser.add_argument("--serve", action="store_true",
                        help="start both shops with their photos served, print their URLs and wait for Ctrl-C")
    args = parser.parse_args()
    if args.describe_ishop:
        return describe_ishop(*args.describe_ishop)

    # Ctrl-C and kill both stop the servers (finally below), even where the shell ignored SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wrk = wrk_harness.ensure_wrk()
    python = ensure_oscar_venv()
    data = args.data.resolve()
    print(f"preparing iShop ({args.ishop_db}) and Oscar ({args.oscar_db}) with {data / 'luma'}", flush=True)
    ishop_url, ishop = prepare_ishop(args, data)
    oscar_url, oscar = prepare_oscar(args, data, python)
    measured = paths(ishop, oscar, args.query)
    work = Path(tempfile.mkdtemp(prefix="ishop-peer-"))  # kept (with the servers' log) if anything fails
    servers: dict[str, wrk_harness.Server] = {}
    try:
        start_servers(args, ishop_url, oscar_url, work, servers, serve_media=args.serve)
        if args.serve:
            for shop, server in servers.items():
                print(f"{shop}: " + "  ".join(server.url + measured[shop][page] for page in PAGES), flush=True)
            print("Ctrl-C (or kill) stops both", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                servers["iShop"].process.wait()
        else:
            lua = work / "report.lua"
            lua.write_text(wrk_harness.WRK_LUA)
            results = measure_alternating(wrk, str(lua), servers, measured, args)
    finally:
        for server in servers.values():
            server.stop()
    shutil.rmtree(work, ignore_errors=True)
    if args.serve:
        return
    print()
    print(f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per run, {args.rounds} "
          f"rounds (median kept); gunicorn: {args.workers} sync workers per shop; {os.cpu_count()} CPUs shared "
          "with whatever else runs on this machine")
    print(report(results, measured))


if __name__ == "__main__":
    main()
