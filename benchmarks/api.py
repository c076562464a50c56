"""Integrator API throughput: `GET /api/v1/products/?page=1` (24 product cards, the catalogue API's
busiest read) next to a bare Django view served by the same gunicorn processes, measured with wrk
on loopback. The issue's target: the product list serves at least 0.25x the bare view's requests
per second.

Run from the repository root:

    .venv/bin/python benchmarks/api.py
    .venv/bin/python benchmarks/api.py --database-url postgres://postgres@127.0.0.1:5432/ishop_bench_api
    .venv/bin/python benchmarks/api.py --workers 2 --connections 8 --duration 10 --rounds 3

What it does:

1. Builds a database (default: SQLite in a temp dir; --database-url for PostgreSQL, which must
   exist and is migrated and filled in place) with the full Luma catalogue (191 products, 1,891
   variants; photos too unless --no-images; their renditions are not made, so cards show the
   originals), through `manage.py import_catalog`.
2. Starts gunicorn (sync workers, --workers, default 2: one per core) on 127.0.0.1 serving
   benchmarks/api_app.py: the shop with DJANGO_DEBUG=false, persistent database connections
   and the API throttles lifted, plus a bare view at /bench/bare/ that returns a fixed JSON body.
3. Installs Debian's `wrk` with apt-get if it is missing, then runs wrk (--connections, --threads,
   --duration) against the bare view and the product list in turns, --rounds times, after a
   warm-up of each. wrk's Lua `done` hook reports p50, p95 and p99 latency.
4. Prints requests per second and latency per round, the medians, and the ratio
   product list / bare view.

The product list is served from catalog/listing_cache.py (as shipped: SHOP_API_LIST_CACHE_SECONDS=30,
dropped on any catalogue or stock change); `--list-cache 0` measures every request computed afresh.

Caveat: wrk and gunicorn share this machine's cores (2 here, also used by other work). The
figures are for comparing the two routes in the same run, not absolute capacity.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LUMA = Path(os.environ.get("ISHOP_DEMO_DATA", BASE_DIR.parent / "shared" / "data")) / "luma"
PYTHON = sys.executable
ROUTES = {"bare view": "/bench/bare/", "product list": "/api/v1/products/?page=1"}
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors=%d p50=%d p95=%d p99=%d\\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status +
    summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    print("Installing Debian's wrk (apt-get install wrk)...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"], check=True,
                   stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or sys.exit("wrk is still missing after apt-get install")


def server_env(args, work: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "API_THROTTLE"))}
    env.update({
        "DATABASE_URL": args.database_url or f"sqlite:///{work / 'bench.sqlite3'}",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "benchmark-only-secret-key-0123456789abcdef",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CONN_MAX_AGE": "600",
        "DJANGO_MEDIA_ROOT": str(work / "media"),
        "DJANGO_STATIC_ROOT": str(work / "static"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "false",  # the import queues rendition jobs nobody runs
        "API_THROTTLE_ANON": "100000000/minute",
        "API_THROTTLE_USER": "100000000/minute",
        "SHOP_API_LIST_CACHE_SECONDS": str(args.list_cache),
        "PYTHONPATH": str(BASE_DIR),
    })
    if not args.redis_url:
        env.pop("REDIS_URL", None)
    else:
        env["REDIS_URL"] = args.redis_url
    return env


def build_database(env: dict[str, str], *, images: bool) -> None:
    manage = [PYTHON, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=BASE_DIR)
    command = [*manage, "import_catalog", str(LUMA / "products.csv")]
    if images:
        command += ["--images", str(LUMA / "images")]
    started = time.monotonic()
    result = subprocess.run(command, env=env, cwd=BASE_DIR, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"import_catalog failed:\n{result.stdout}\n{result.stderr}")
    summary = " ".join(line.strip() for line in result.stdout.splitlines()[:4])
    print(f"database: {env['DATABASE_URL'].split('@')[-1]}, Luma imported in {time.monotonic() - started:.0f} s "
          f"({summary})", flush=True)


def start_gunicorn(env: dict[str, str], *, port: int, workers: int, log: Path) -> subprocess.Popen:
    command = [str(Path(PYTHON).with_name("gunicorn")), "--worker-class", "sync", "--workers", str(workers),
               "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
               "--error-logfile", str(log), "--chdir", str(BASE_DIR), "benchmarks.api_app:application"]
    server = subprocess.Popen(command, env=env, cwd=BASE_DIR, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ROUTES['bare view']}", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop(server)
    sys.exit(f"gunicorn did not answer; see {log}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def check_routes(port: int) -> None:
    import json

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{ROUTES['product list']}", timeout=30) as response:
        page = json.load(response)
    if len(page["results"]) != 24:
        sys.exit(f"the product list gave {len(page['results'])} products, not 24")


def run_wrk(wrk: str, script: Path, url: str, *, threads: int, connections: int, duration: int) -> dict:
    result = subprocess.run([wrk, "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                             "--timeout", "10s", "-s", str(script), url], capture_output=True, text=True)
    match = re.search(r"RESULT requests=(\d+) duration_us=(\d+) errors=(\d+) p50=(\d+) p95=(\d+) p99=(\d+)",
                      result.stdout)
    if not match:
        sys.exit(f"wrk gave no result:\n{result.stdout}\n{result.stderr}")
    requests, duration_us, errors, p50, p95, p99 = map(int, match.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    return {"rps": requests / (duration_us / 1e6), "errors": errors + (int(non_2xx.group(1)) if non_2xx else 0),
            "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL of an existing database to fill (default: SQLite)")
    parser.add_argument("--redis-url", help="use the Redis cache, as production does (default: local memory)")
    parser.add_argument("--no-images", action="store_true", help="import the catalogue without its photos")
    parser.add_argument("--list-cache", type=int, default=30, metavar="SECONDS",
                        help="SHOP_API_LIST_CACHE_SECONDS for the server (default 30, as shipped; 0: no cache)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each route (default 3)")
    args = parser.parse_args()
    if not (LUMA / "products.csv").is_file():
        sys.exit(f"Luma demo data not found at {LUMA}; set ISHOP_DEMO_DATA")
    wrk = ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="ishop-bench-api-"))
    server = None
    try:
        env = server_env(args, work)
        build_database(env, images=not args.no_images)
        port = free_port()
        server = start_gunicorn(env, port=port, workers=args.workers, log=work / "gunicorn.log")
        check_routes(port)
        script = work / "report.lua"
        script.write_text(LUA)
        print(f"product-list cache: {f'{args.list_cache} s' if args.list_cache else 'off'} "
              f"({'Redis' if args.redis_url else 'local memory per worker'})")
        print(f"gunicorn: {args.workers} sync workers; wrk: {args.threads} threads, {args.connections} connections, "
              f"{args.duration} s per measurement; {os.cpu_count()} CPUs shared by both (and anything else running)\n",
              flush=True)
        for url in ROUTES.values():  # warm-up: connections, imports, caches
            run_wrk(wrk, script, f"http://127.0.0.1:{port}{url}", threads=args.threads,
                    connections=args.connections, duration=2)
        results: dict[str, list[dict]] = {name: [] for name in ROUTES}
        print(f"{'round':>5}  {'route':<13} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
        for round_ in range(1, args.rounds + 1):
            order = list(ROUTES) if round_ % 2 else list(reversed(ROUTES))  # alternate who goes first
            for name in order:
                figures = run_wrk(wrk, script, f"http://127.0.0.1:{port}{ROUTES[name]}", threads=args.threads,
                                  connections=args.connections, duration=args.duration)
                results[name].append(figures)
                print(f"{round_:>5}  {name:<13} {figures['rps']:>9.0f} {figures['p50']:>8.1f} {figures['p95']:>8.1f} "
                      f"{figures['p99']:>8.1f} {figures['errors']:>6}", flush=True)
        print("\nmedians:")
        medians = {}
        for name, runs in results.items():
            medians[name] = {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50", "p95", "p99")}
            m = medians[name]
            print(f"  {name:<13} {m['rps']:>9.0f} req/s   p50 {m['p50']:.1f} ms   p95 {m['p95']:.1f} ms   "
                  f"p99 {m['p99']:.1f} ms")
        ratio = medians["product list"]["rps"] / medians["bare view"]["rps"]
        verdict = "meets" if ratio >= 0.25 else "misses"
        print(f"\nproduct list / bare view: {ratio:.2f}x  ({verdict} the 0.25x target)")
        if any(run["errors"] for runs in results.values() for run in runs):
            print("warning: some requests failed or were not 2xx; see the errors column")
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
