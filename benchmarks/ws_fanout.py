"""Live-inventory fan-out: how long until N open stock pages see one stock change?

Run from the repository root (Redis must be up on 127.0.0.1:6379):

    .venv/bin/python benchmarks/ws_fanout.py
    .venv/bin/python benchmarks/ws_fanout.py --clients 100,500,1000 --changes 5 --layers core,pubsub --servers 1,2

For every N in --clients it measures, each against fresh server processes:

* ceiling: a bare `websockets` broadcast server (this file run with --ceiling-server): it encodes
  the stock message once and hands it to `websockets.broadcast`. Nothing we serve can beat it on
  this machine with this client.
* each layer in --layers, for each K in --servers: K daphne processes serving shop.asgi:application
  (the real InventoryConsumer) with REDIS_URL set and the channel layer chosen by
  CHANNEL_LAYER_BACKEND; the benchmark sends each stock change the way the app does, through
  catalog.live.realtime.send_group_messages(). K = 1 is `make run` (daphne binds the port); K > 1 is the
  production layout, one daphne per core: the benchmark binds and listens, every daphne serves that
  inherited socket (`daphne --fd`) and the kernel gives each connection to one of them. The default
  K = 2 is the number of cores of the machine the figures in benchmarks/README.md come from.

N websocket clients (one asyncio process, this one) connect to /ws/inventory/, subscribe to one
variant and wait for the {"type": "subscribed"} ack (connect time = handshake + ack). Then the
stock changes --changes times; every message carries "sent_at" (time.time() just before the send)
and each client stamps time.time() on receipt, so latency = receive - sent_at (same machine clock).
It prints connect p50/p95, delivery p50/p95/p99 over every client and change, the time until the
LAST client has a change (median over the changes), and that time divided by the ceiling's.

daphne runs the shop's own settings; CHANNEL_LAYER_BACKEND (core or pubsub) in its environment
picks the layer, as it does in production. The database is a scratch SQLite file (migrated
first; the consumers never touch it). Redis db --redis-db must be empty: it is flushed between
runs and at the end so that no group or counter from one run leaks into the next.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ws_harness import (BASE_DIR, HOST, RUN_ID, Result, Server, free_port, listening_socket, load_warning, measure,
                        ms, other_work, percentile, raise_open_files_limit)

LAYERS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
SETTINGS_MODULE = "bench_ws_fanout_settings"
# daphne's settings: the shop's own (plus one log level); CHANNEL_LAYER_BACKEND in its environment picks the layer.
SETTINGS_SOURCE = '''"""Written by benchmarks/ws_fanout.py: the shop's settings, unchanged but for one log level."""
from shop.settings import *  # noqa: F401,F403

# daphne logs "Listening on TCP address ..." at INFO once it serves a socket it inherited (--fd);
# the benchmark waits for that line, because such a socket accepts connections before daphne is up.
LOGGING["loggers"]["daphne.server"] = {"level": "INFO"}  # noqa: F405
'''


# --- the ceiling: a bare websockets broadcast server --------------------------------------------

def stock_message(*, variant: int, seq: int, sent_at: float, run: str) -> dict:
    """The same shape and size as catalog.live.realtime.stock_payload() plus the benchmark fields."""
    return {"type": "stock", "variant": variant, "product": 1, "sku": f"BENCH-{variant}",
            "stock": 1000 - seq, "in_stock": True, "ts": "2025-01-01T00:00:00.000000+00:00",
            "run": run, "seq": seq, "sent_at": sent_at}


async def ceiling_server(port: int) -> None:
    """Speak the inventory protocol (subscribe -> subscribed ack); on {"type": "go"} from a control
    client, encode the stock message once and websockets.broadcast() it to every subscriber."""
    import websockets
    from websockets.asyncio.server import serve

    subscribers: set = set()

    async def handler(ws) -> None:
        try:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") == "subscribe":
                    subscribers.add(ws)
                    await ws.send(json.dumps({"type": "subscribed", "variants": sorted(msg["variants"])}))
                elif msg.get("type") == "go":
                    payload = stock_message(variant=msg["variant"], seq=msg["seq"], sent_at=msg["sent_at"],
                                            run=msg["run"])
                    websockets.broadcast(subscribers, json.dumps(payload))
        finally:
            subscribers.discard(ws)

    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handler, HOST, port, compression=None, ping_interval=None, backlog=1024):
        await stop


# --- the runs --------------------------------------------------------------------------------

def server_env(args, tmp: Path, backend: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(tmp), str(BASE_DIR)]),
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "REDIS_URL": args.redis_url,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "DJANGO_DEBUG": "false",  # production-like: no debug bookkeeping
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_LOG_LEVEL": "WARNING",
    })
    if backend:
        env["CHANNEL_LAYER_BACKEND"] = backend
    return env


def flush_redis(args) -> None:
    import redis

    client = redis.Redis.from_url(args.redis_url, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


async def run_ceiling(args, tmp: Path, n: int, servers: list) -> Result:
    from websockets.asyncio.client import connect

    port = free_port()
    server = Server("ceiling server", [sys.executable, __file__, "--ceiling-server", "--port", str(port)],
                    server_env(args, tmp, None), tmp / f"ceiling-{n}.log", port)
    servers.append(server)
    try:
        server.wait_listening(30)
        origin = f"http://{HOST}:{port}"
        control = await connect(f"ws://{HOST}:{port}/", origin=origin, compression=None, ping_interval=None,
                                proxy=None, open_timeout=args.timeout)
        try:
            async def send(seq: int) -> tuple[float, float]:
                sent_at = time.time()
                await control.send(json.dumps({"type": "go", "variant": args.variant, "seq": seq, "run": RUN_ID,
                                               "sent_at": sent_at}))
                return sent_at, time.time() - sent_at

            return await measure(label="ceiling", url=f"ws://{HOST}:{port}/ws/inventory/", origin=origin, n=n,
                                 changes=args.changes, warmup=args.warmup, variant=args.variant,
                                 concurrency=args.connect_concurrency, timeout=args.timeout, gap=args.gap, send=send,
                                 server_pids=[server.proc.pid])
        finally:
            control.transport.abort()
    finally:
        server.stop()
        servers.remove(server)


def start_daphnes(args, tmp: Path, n: int, layer: str, backend: str, processes: int,
                  servers: list) -> tuple[int, socket.socket | None]:
    """Start `processes` daphne processes serving shop.asgi:application; returns (port, the listening
    socket they share or None). One process binds its port itself, as in `make run`; several
    inherit one listening socket (`daphne --fd`) and the kernel hands each connection to one."""
    env = server_env(args, tmp, backend)
    if processes == 1:
        port = free_port()
        server = Server(f"daphne ({layer})",
                        [sys.executable, "-m", "daphne", "-b", HOST, "-p", str(port), "shop.asgi:application"],
                        env, tmp / f"daphne-{layer}-{n}.log", port)
        servers.append(server)
        server.wait_listening(60)
        return port, None
    listener = listening_socket()
    port, fd = listener.getsockname()[1], listener.fileno()
    try:
        started = []
        for i in range(processes):
            server = Server(f"daphne {i + 1}/{processes} ({layer})",
                            [sys.executable, "-m", "daphne", "--fd", str(fd), "shop.asgi:application"],
                            env, tmp / f"daphne-{layer}-{n}-{i + 1}.log", port, pass_fds=(fd,))
            servers.append(server)
            started.append(server)
        for server in started:
            server.wait_listening(60, log_marker=b"Listening on TCP address")
    except BaseException:
        listener.close()
        raise
    return port, listener


async def run_layer(args, tmp: Path, n: int, layer: str, processes: int, servers: list) -> Result:
    from django.test import override_settings

    from catalog.live.realtime import send_group_messages, stock_group, stock_payload

    flush_redis(args)
    backend = LAYERS.get(layer, layer)
    # This process gets the very CHANNEL_LAYERS the daphne subprocess computes from its environment.
    os.environ["CHANNEL_LAYER_BACKEND"] = backend
    from django.conf import settings

    layers = {"default": {**settings.CHANNEL_LAYERS["default"], "BACKEND": backend}}
    before = len(servers)
    listener = None
    try:
        port, listener = start_daphnes(args, tmp, n, layer, backend, processes, servers)
        pids = [server.proc.pid for server in servers[before:]]

        def send_sync(seq: int) -> tuple[float, float]:
            # What catalog.services._send_stock does on commit: stock_payload, then one sync call.
            payload = stock_payload(variant_id=args.variant, product_id=1, sku=f"BENCH-{args.variant}",
                                    stock=1000 - seq)
            payload.update(run=RUN_ID, seq=seq)
            payload["sent_at"] = sent_at = time.time()
            ok = send_group_messages([(stock_group(args.variant), payload)])
            if not ok:
                raise RuntimeError("send_group_messages() returned False (see the log above)")
            return sent_at, time.time() - sent_at

        async def send(seq: int) -> tuple[float, float]:
            # async_to_sync refuses to run in a thread with a running loop, so use a worker thread,
            # as a sync Django view or a Celery task would.
            return await asyncio.to_thread(send_sync, seq)

        with override_settings(CHANNEL_LAYERS=layers):
            return await measure(label=layer if processes == 1 else f"{layer} x{processes}",
                                 url=f"ws://{HOST}:{port}/ws/inventory/",
                                 origin=f"http://{HOST}:{port}", n=n, changes=args.changes, warmup=args.warmup,
                                 variant=args.variant, concurrency=args.connect_concurrency,
                                 timeout=args.timeout, gap=args.gap, send=send, server_pids=pids)
    finally:
        for server in servers[before:]:
            server.stop()
        del servers[before:]
        if listener is not None:
            listener.close()


def prepare(args, tmp: Path) -> None:
    """Settings module, Django in this process, scratch SQLite database, empty Redis db."""
    import redis

    (tmp / f"{SETTINGS_MODULE}.py").write_text(SETTINGS_SOURCE)
    env = server_env(args, tmp, None)
    for key in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "REDIS_URL", "DATABASE_URL", "DJANGO_DEBUG",
                "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_LOG_LEVEL"):
        os.environ[key] = env[key]
    sys.path[:0] = [str(tmp), str(BASE_DIR)]

    client = redis.Redis.from_url(args.redis_url, socket_timeout=5)
    try:
        keys = client.dbsize()
    finally:
        client.close()
    if keys:
        raise SystemExit(f"{args.redis_url} holds {keys} keys; pick an empty db with --redis-db "
                         "(this benchmark flushes it between runs).")
    args.redis_checked_empty = True

    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR,
                   check=True, timeout=300)
    import django

    django.setup()


def report_line(r: Result, ceiling: Result | None) -> dict:
    last = statistics.median(r.last) if r.last else float("nan")
    ceil_last = statistics.median(ceiling.last) if ceiling and ceiling.last else float("nan")
    return {
        "layer": r.label, "N": str(r.n),
        "conn p50": ms(percentile(r.connect, 50)), "conn p95": ms(percentile(r.connect, 95)),
        "p50": ms(percentile(r.latencies, 50)), "p95": ms(percentile(r.latencies, 95)),
        "p99": ms(percentile(r.latencies, 99)),
        "first": ms(statistics.median(r.first)) if r.first else "nan",
        "last": ms(last) + ("*" if any(r.missing) else ""),
        "ceiling last": ms(ceil_last),
        "ratio": f"{last / ceil_last:.2f}" if r.label != "ceiling" else "1.00",
        "srv CPU": ms(statistics.median(r.server_cpu)),
        "µs/client": f"{statistics.median(r.server_cpu) / r.n * 1e6:.0f}",
    }


def print_table(rows: list[dict]) -> None:
    headers = list(rows[0])
    widths = {h: max(len(h), *(len(r[h]) for r in rows)) for h in headers}
    print(" | ".join(h.rjust(widths[h]) for h in headers))
    print("-+-".join("-" * widths[h] for h in headers))
    for r in rows:
        print(" | ".join(r[h].rjust(widths[h]) for h in headers))


async def main(args) -> int:
    clients = [int(x) for x in args.clients.split(",")]
    layers = [x.strip() for x in args.layers.split(",") if x.strip()]
    processes = [int(x) for x in args.servers.split(",")]
    limit = raise_open_files_limit(2 * max(clients) + 512)
    tmp = Path(tempfile.mkdtemp(prefix="ws_fanout_"))
    servers: list[Server] = []
    rows: list[dict] = []
    try:
        prepare(args, tmp)
        print(f"ws_fanout: N={clients}, {args.changes} changes (+{args.warmup} warm-up) per run, layers={layers}, "
              f"{os.cpu_count()} CPUs, open-files limit {limit}, Redis {args.redis_url}; daphne processes per layer: {processes}")
        load_warning()
        for n in clients:
            ceiling = await run_ceiling(args, tmp, n, servers)
            rows.append(report_line(ceiling, ceiling))
            print(f"  ceiling   N={n}: last {ms(statistics.median(ceiling.last))} ms, "
                  f"server CPU {rows[-1]['srv CPU']} ms, last per change {[round(x * 1000) for x in ceiling.last]} ms"
                  f"{other_work(ceiling)}", flush=True)
            for layer in layers:
                for k in processes:
                    r = await run_layer(args, tmp, n, layer, k, servers)
                    rows.append(report_line(r, ceiling))
                    print(f"  {r.label:9} N={n}: last {rows[-1]['last']} ms, ratio {rows[-1]['ratio']}, "
                          f"send call median {ms(statistics.median(r.send_call))} ms, server CPU {rows[-1]['srv CPU']} "
                          f"ms, last per change {[round(x * 1000) for x in r.last]} ms, missing per change "
                          f"{r.missing}, connections per server process {r.sockets}{other_work(r)}", flush=True)
        load_warning()
        print()
        print("times in ms; delivery = receive - sent_at over every client and change; 'first'/'last' = fastest/"
              "slowest client, median over the changes; ratio = last / ceiling last ('*' = some deliveries missing)")
        print_table(rows)
        biggest = [r for r in rows if r["N"] == str(max(clients)) and r["layer"] != "ceiling"]
        if len(biggest) > 1:
            lasts = {r["layer"]: float(r["last"].rstrip("*")) for r in biggest}
            best = min(lasts, key=lasts.get)
            print(f"\nfastest at N={max(clients)}: {best} (last client: "
                  + ", ".join(f"{k} {v:.1f} ms" for k, v in lasts.items()) + ")")
        print(f"target (last client within 2x the ceiling at N={max(clients)}): "
              + "; ".join(f"{r['layer']} {r['ratio']}x " + ("met" if float(r["ratio"]) <= 2.0 else "NOT met")
                          for r in biggest))
        return 0
    finally:
        for server in list(servers):
            server.stop()
        if args.redis_checked_empty:  # never flush a db this run did not find empty
            with contextlib.suppress(Exception):
                flush_redis(args)
        if args.keep_logs:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", default="100,500,1000", help="comma-separated N (default 100,500,1000)")
    p.add_argument("--changes", type=int, default=5, help="measured stock changes per run (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured changes first (default 1)")
    p.add_argument("--layers", default="core,pubsub", help="core, pubsub or dotted paths (default core,pubsub)")
    p.add_argument("--servers", default="2",
                   help="daphne processes sharing the listening socket, comma-separated (default 2: one per "
                        "core of the 2-core machine these figures come from; 1 = `make run`)")
    p.add_argument("--redis-db", type=int, default=14, help="an EMPTY Redis db, flushed by the run (default 14)")
    p.add_argument("--variant", type=int, default=1)
    p.add_argument("--connect-concurrency", type=int, default=50, help="handshakes in flight (default 50)")
    p.add_argument("--timeout", type=float, default=15.0, help="seconds for any single wait (default 15)")
    p.add_argument("--gap", type=float, default=0.3, help="seconds of idle between changes (default 0.3)")
    p.add_argument("--keep-logs", action="store_true", help="keep the temp dir with the server logs")
    p.add_argument("--ceiling-server", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.redis_url = f"redis://{HOST}:6379/{args.redis_db}"
    args.redis_checked_empty = False
    return args


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS.ceiling_server:
        asyncio.run(ceiling_server(ARGS.port))
        sys.exit(0)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the servers
    sys.exit(asyncio.run(main(ARGS)))
