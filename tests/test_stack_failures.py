"""Issue 21, items 1 and 4, through the real topology: the `make prod` stack (nginx, gunicorn on a
Unix socket, daphne, a Celery worker and beat under the supervisor) on the test database, with a
redis-server of its own that the test kills, and emails sent over SMTP to an aiosmtpd sink.

1. Under concurrent guest checkouts through nginx, Redis is killed (SIGKILL) and started again five
   times, then the worker's main process and daphne are killed with SIGKILL once each. Pages and
   orders keep working throughout (orders are taken while Redis is down), /ready/ answers 503
   while Redis is down and 200 after, no process dies of the outages and the worker consumes again
   within 15 s, a killed process is running again within 15 s and doing its job within 15 s at the
   speed of a quiet machine (the limit grows with how much slower the machine is at that moment,
   measured on a bare Django start: `slowdown`), and every order gets exactly one confirmation
   email in the end.
4. Ten orders placed while Redis is down send nothing at once and lose nothing: once Redis is
   started again, exactly ten confirmations go out, one per order.

The recovery seconds are printed (run with -s to see them).
"""
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pytest
import requests
from django.db import connection
from websockets.sync.client import connect

from catalog.tests.conftest import _database_url
from catalog.tests.factories import VariantFactory
from orders.models import Order
from orders.tests.conftest import SmtpSink
from tests.stack import ROLES, ROOT, RedisServer, buy, running_stack

pytestmark = pytest.mark.django_db(transaction=True)

RECOVERY_LIMIT = 15.0  # seconds: every process back, and doing its job, within this (see slowdown)
SHOPPERS = 6
OUTAGES = 5
CONFIRMED = re.compile(r"Your iShop order (\S+) is confirmed")


@pytest.fixture
def broker(tmp_path):
    """The stack's own Redis (broker, cache, channel layer), which the test kills and restarts."""
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis")
    yield server
    server.kill()


@pytest.fixture
def sink():
    sink = SmtpSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


@pytest.fixture
def stack(transactional_db, tmp_path, broker, sink):
    if connection.vendor != "postgresql":
        pytest.skip("the production stack needs PostgreSQL: set DATABASE_URL (make test does)")
    with running_stack(tmp_path, database_url=_database_url(connection.settings_dict), redis_url=broker.url,
                       extra_env={"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}) as running:
        yield running
    assert not running.leftovers(), f"processes left behind by make prod-stop: {running.leftovers()}"


def confirmations(sink) -> Counter:
    """{order number: confirmation emails received}."""
    found = Counter()
    for _, message in list(sink.messages):
        match = CONFIRMED.search(message["Subject"] or "")
        if match:
            found[match.group(1)] += 1
    return found


def wait_until(condition, *, timeout: float, message, interval: float = 0.1) -> float:
    """Poll `condition` every `interval` seconds; returns the seconds it took, fails with
    `message()` after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(message())
        time.sleep(interval)
    return time.monotonic() - started


def ready_status(stack) -> int | None:
    try:
        return requests.get(stack.url + "/ready/", timeout=10).status_code
    except requests.RequestException:
        return None


@dataclass
class Shoppers:
    """SHOPPERS threads of guests buying one item each, one after another, through nginx."""

    stack: object
    variant: object
    orders: list = field(default_factory=list)  # tests.stack.Purchase
    failures: list = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, shopper: int) -> None:
        purchase = 0
        while not self.stop.is_set():
            purchase += 1
            try:
                bought = buy(self.stack.url, self.variant, email=f"shopper{shopper}-{purchase}@example.com")
            except Exception as exc:  # noqa: BLE001 - every failure is reported at the end
                with self.lock:
                    self.failures.append(f"shopper {shopper} purchase {purchase}: {type(exc).__name__}: {exc}")
            else:
                with self.lock:
                    self.orders.append(bought)
            time.sleep(0.2)

    def placed_within(self, start: float, end: float) -> list[str]:
        """Numbers of the orders whose placing request ran entirely between `start` and `end`."""
        with self.lock:
            return [p.number for p in self.orders if p.placing_from >= start and p.placing_to <= end]


def slowdown(stack) -> float:
    """How many times slower than a quiet machine this one is right now (at least 1): the wall time
    of a bare `django.setup()` in a child process over the CPU time it used (about 2.5 s of CPU:
    on a quiet machine the two are equal). Other test runs sharing the machine make every process
    start slower; a restarted process cannot do its job before it has started."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import django; django.setup()"], check=True, timeout=300,
                   env={**stack.env, "DJANGO_SETTINGS_MODULE": "shop.settings"}, cwd=ROOT)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return max(1.0, wall / max(cpu, 0.1))


def worker_took_a_job_since(stack, since: float) -> bool:
    """Whether the worker has received a job from the broker since `since` (time.time()): it is
    consuming (its log says "Task <name>[<id>] received" with a timestamp). The shoppers' orders
    keep sending it jobs."""
    for line in stack.process_log("worker").splitlines()[::-1]:
        if '] received"' not in line or not line.startswith("{"):
            continue
        stamp = json.loads(line)["timestamp"]
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() >= since
    return False


def websocket_answers(stack, variant) -> bool:
    try:
        with connect(stack.url.replace("http://", "ws://") + "/ws/inventory/", origin=stack.url,
                     open_timeout=3) as socket_:
            socket_.send(json.dumps({"type": "subscribe", "variants": [variant.pk]}))
            return json.loads(socket_.recv(timeout=3))["type"] == "subscribed"
    except Exception:  # noqa: BLE001 - not back yet
        return False


def test_the_stack_rides_out_redis_outages_and_killed_processes(stack, broker, sink):
    variant = VariantFactory(sku="MH01-M-Gray", size="M", colour="Gray", stock=100_000, price=Decimal("52.00"),
                             product__name="Chaz Kangeroo Hoodie")
    variant = type(variant).objects.select_related("product").get(pk=variant.pk)
    assert set(stack.processes()) == set(ROLES), stack.processes()
    figures = []
    shoppers = Shoppers(stack, variant)
    threads = [threading.Thread(target=shoppers.run, args=(n,), daemon=True) for n in range(SHOPPERS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(shoppers.orders) >= SHOPPERS, timeout=60,
                   message=lambda: f"no orders before the first kill: {shoppers.failures[:5]}\n{stack.tail()}")

        for outage in range(1, OUTAGES + 1):
            before = stack.processes()
            broker.kill()
            down_at = time.monotonic()
            answers = []

            def outage_seen() -> bool:
                answers.append(ready_status(stack))
                return (503 in answers and time.monotonic() - down_at >= 3
                        and shoppers.placed_within(down_at, time.monotonic()))

            wait_until(outage_seen, timeout=20, message=lambda: (
                f"outage {outage}: /ready/ said {answers[-5:]}; orders placed while Redis was down: "
                f"{shoppers.placed_within(down_at, time.monotonic())}; failures: {shoppers.failures[-5:]}\n{stack.tail()}"))
            assert set(answers) == {503}, f"outage {outage}: /ready/ answered {Counter(answers)} while Redis was down"
            taken_while_down = shoppers.placed_within(down_at, time.monotonic())
            broker.start()
            up_at, down_for = time.time(), time.monotonic() - down_at
            ready = wait_until(lambda: ready_status(stack) == 200, timeout=RECOVERY_LIMIT,
                               message=lambda: f"outage {outage}: /ready/ not 200 again\n{stack.tail()}")
            reconnected = wait_until(lambda: worker_took_a_job_since(stack, up_at), timeout=RECOVERY_LIMIT - ready,
                                     interval=0.5, message=lambda: f"outage {outage}: the worker took no job\n{stack.tail()}")
            after = stack.processes()
            assert set(after) == set(ROLES), f"outage {outage}: running {after}\n{stack.tail()}"
            restarted = sorted(role for role in ROLES if before.get(role) != after.get(role))
            figures.append(f"Redis outage {outage} ({down_for:.0f} s): "
                           f"{len(taken_while_down)} orders taken while down; after the restart /ready/ 200 in "
                           f"{ready:.1f} s, worker consuming again in {ready + reconnected:.1f} s; processes restarted: "
                           f"{restarted or 'none'}")

        slower = slowdown(stack)
        figures.append(f"this machine ran {slower:.1f}x slower than a quiet one meanwhile (a bare django.setup())")
        for role in ("worker", "ws"):
            old = stack.processes()[role]
            os.kill(old, signal.SIGKILL)
            killed_at, killed_wall = time.monotonic(), time.time()
            back = wait_until(lambda: stack.processes().get(role) not in (None, old), timeout=RECOVERY_LIMIT,
                              message=lambda: f"{role} was not restarted\n{stack.tail()}")
            if role == "worker":  # consuming again
                wait_until(lambda: worker_took_a_job_since(stack, killed_wall), timeout=RECOVERY_LIMIT * slower,
                           interval=0.5, message=lambda: f"the new worker took no job\n{stack.tail()}")
            else:  # WebSockets through nginx again
                wait_until(lambda: websocket_answers(stack, variant), timeout=RECOVERY_LIMIT * slower,
                           message=lambda: f"no WebSocket through nginx after daphne was killed\n{stack.tail()}")
            working = time.monotonic() - killed_at
            assert set(stack.processes()) == set(ROLES), stack.processes()
            figures.append(f"kill -9 {role} (pid {old}): new process after {back:.1f} s, working after {working:.1f} s "
                           f"({working / slower:.1f} s at quiet-machine speed)")
    finally:
        shoppers.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        print("\n" + "\n".join(figures))

    assert not shoppers.failures, f"{len(shoppers.failures)} failed purchases: {shoppers.failures[:10]}"
    numbers = set(Order.objects.values_list("number", flat=True))
    assert {purchase.number for purchase in shoppers.orders} <= numbers
    # Every order, including those taken while Redis was down, gets its confirmation exactly once.
    caught_up = wait_until(lambda: set(confirmations(sink)) >= numbers, timeout=120, message=lambda: (
        f"{len(numbers - set(confirmations(sink)))} of {len(numbers)} orders got no confirmation\n{stack.tail()}"))
    time.sleep(3)  # any duplicate still in flight arrives
    twice = {number: count for number, count in confirmations(sink).items() if count > 1}
    assert not twice, f"confirmations sent more than once: {twice}"
    print(f"{len(numbers)} orders ({len(shoppers.orders)} by {SHOPPERS} shoppers), each confirmed once (the last "
          f"{caught_up:.0f} s after the shoppers stopped); "
          f"{OUTAGES} Redis outages, kill -9 of the worker and of daphne survived")


def test_orders_taken_while_redis_is_down_are_confirmed_once_it_is_back(stack, broker, sink):
    variant = VariantFactory(sku="MH01-L-Gray", size="L", colour="Gray", stock=100, price=Decimal("52.00"))
    variant = type(variant).objects.select_related("product").get(pk=variant.pk)
    broker.kill()
    numbers = [buy(stack.url, variant, email=f"outage-{n}@example.com").number for n in range(10)]
    assert Order.objects.count() == 10
    time.sleep(2)
    assert confirmations(sink) == Counter(), "nothing can be sent while the broker is down"

    broker.start()
    started = time.monotonic()
    sent = wait_until(lambda: len(confirmations(sink)) == 10, timeout=60, message=lambda: (
        f"{len(confirmations(sink))} of 10 confirmations after Redis came back\n{stack.tail()}"))
    time.sleep(5)  # a duplicate would arrive by now
    assert confirmations(sink) == Counter({number: 1 for number in numbers})
    print(f"\n10 orders taken with Redis down; all 10 confirmations sent {sent:.1f} s after Redis came back "
          f"({time.monotonic() - started:.1f} s watched), none twice")
