"""Issue 8's "Done when": the `make prod` stack comes up and a guest buys through nginx.

The fixture runs what `make prod` runs (deploy/prod.py: migrate, collectstatic, then nginx and the
Procfile's web, ws, worker and beat under honcho) with DJANGO_DEBUG=false on the test database and
the real Redis. Nothing of it can collide with another run: nginx listens on a free port, gunicorn
and daphne on Unix sockets in the test's own folder, the worker consumes a queue of its own, and
cache keys and channel-layer channels carry a prefix of their own. It is stopped the way
`make prod-stop` stops it, and killed if it will not stop.

Then, over HTTP through nginx: a guest opens the product page, adds two to the cart and checks
out; a WebSocket opened through nginx's /ws/ hears the new stock; /metrics counts the order; the
request id sent with the checkout is echoed and appears in nginx's and Django's JSON logs; static
files and media come from nginx with their cache headers.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from catalog.models import Variant
from catalog.tests.conftest import _database_url
from catalog.tests.factories import VariantFactory
from orders.models import Order

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 180  # seconds: migrate, collectstatic and six processes on a shared 2-core machine
ADDRESS = {"email": "gale@example.com", "shipping_name": "Gale Guest", "shipping_line1": "1 Main Street",
           "shipping_city": "Springfield", "shipping_postcode": "12345", "shipping_country": "US",
           "shipping_method": "standard"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    def __init__(self, url: str, run_dir: Path, log_path: Path, media_root: Path):
        self.url, self.run_dir, self.log_path, self.media_root = url, run_dir, log_path, media_root

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def json_lines(self, process: str) -> list[dict]:
        """The JSON log lines honcho printed for `process` ("web", "nginx", ...)."""
        lines = []
        for line in self.log().splitlines():
            match = re.match(r"^\S+ " + re.escape(process) + r"\s*\| (\{.*\})$", line)
            if match:
                try:
                    lines.append(json.loads(match.group(1)))
                except json.JSONDecodeError:
                    pass
        return lines


@pytest.fixture
def production_stack(transactional_db, tmp_path):
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("the production stack needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL "
                    "(make test does)")
    run_id = uuid.uuid4().hex[:10]
    run_dir = tmp_path / "run"
    media_root = tmp_path / "media"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "ISHOP_RUN_DIR": str(run_dir),
        "ISHOP_PROD_PORT": str(port),
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "DJANGO_MEDIA_ROOT": str(media_root),
        "CELERY_TASK_DEFAULT_QUEUE": f"test-stack-{run_id}",
        "CACHE_KEY_PREFIX": f"test-stack-{run_id}",
        "CHANNEL_LAYER_PREFIX": f"test-stack-{run_id}",
        "WEB_CONCURRENCY": "2",  # two gunicorn workers: /metrics must add up both
        "CELERY_CONCURRENCY": "1",
    }
    for key in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(key, None)
    log_path = tmp_path / "stack.log"
    with open(log_path, "wb") as log:
        runner = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "prod.py")], cwd=ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stack = Stack(f"http://127.0.0.1:{port}", run_dir, log_path, media_root)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert runner.poll() is None, f"make prod stopped:\n{stack.log()[-6000:]}"
            try:  # a fresh worker's first request imports the URLconf and templates: slow under load
                if requests.get(stack.url + "/ready/", timeout=30).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert time.monotonic() < deadline, f"the stack was not ready in {START_TIMEOUT} s:\n{stack.log()[-6000:]}"
            time.sleep(0.5)
        yield stack
    finally:
        subprocess.run([sys.executable, str(ROOT / "deploy" / "prod.py"), "--stop"], cwd=ROOT, env=env,
                       timeout=60, capture_output=True)
        try:
            runner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait(timeout=10)
        with redis.Redis.from_url(settings.REDIS_URL) as client:
            queue = env["CELERY_TASK_DEFAULT_QUEUE"]
            client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
            stale = list(client.scan_iter(f":1:test-stack-{run_id}*")) + list(client.scan_iter(f"*test-stack-{run_id}*"))
            if stale:
                client.delete(*stale)
    # Everything stopped: nothing listens on the port or the sockets any more.
    with pytest.raises(requests.ConnectionError):
        requests.get(stack.url + "/health/", timeout=2)
    assert not (run_dir / "web.sock").exists() or not _accepts(run_dir / "web.sock")


def _accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
            return True
        except OSError:
            return False


def form_value(html: str, name: str) -> str:
    match = re.search(r'name="' + re.escape(name) + r'"[^>]*value="([^"]*)"', html) or \
        re.search(r'value="([^"]*)"[^>]*name="' + re.escape(name) + r'"', html)
    assert match, f"no {name} field in the page"
    return match.group(1)


def metric(text: str, name: str) -> float:
    return sum(float(value) for value in re.findall(r"^" + re.escape(name) + r"(?:\{[^}]*\})? ([0-9.e+-]+)$",
                                                    text, re.MULTILINE))


def test_a_guest_buys_through_nginx_and_sees_live_stock_and_the_metrics_count_it(production_stack):
    stack = production_stack
    for process in ("web", "ws", "worker", "beat", "nginx"):  # the whole topology runs
        assert re.search(rf"system \| {process} started \(pid=\d+\)", stack.log()), process
    assert any(re.match(r"^\S+ beat\s+\|.*django_celery_beat", line) for line in stack.log().splitlines())
    variant = VariantFactory(sku="MH01-M-Gray", size="M", colour="Gray", stock=5, price=Decimal("52.00"),
                             product__name="Chaz Kangeroo Hoodie")
    product = variant.product
    guest = requests.Session()

    page = guest.get(stack.url + product.get_absolute_url(), timeout=30)
    assert page.status_code == 200 and "Chaz Kangeroo Hoodie" in page.text
    assert page.headers["Server"].startswith("nginx")
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["X-Request-ID"])  # nginx's id, echoed by Django

    # Static files: collected, hashed and compressed; nginx sends the .gz and caches for a year.
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page.text).group(1)
    assert re.search(r"\.[0-9a-f]{12}\.css$", stylesheet), stylesheet
    css = guest.get(stack.url + stylesheet, headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert css.status_code == 200 and css.headers["Content-Encoding"] == "gzip"
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # Media: straight from MEDIA_ROOT, renditions (content-hashed names) immutable.
    rendition = stack.media_root / "renditions" / "1" / "hoodie-320w.0123456789abcdef.webp"
    rendition.parent.mkdir(parents=True)
    rendition.write_bytes(b"RIFF....WEBP")
    media = guest.get(stack.url + "/media/renditions/1/hoodie-320w.0123456789abcdef.webp", timeout=10)
    assert media.status_code == 200 and media.content == b"RIFF....WEBP"
    assert media.headers["Cache-Control"] == "public, max-age=31536000, immutable"

    ws_url = stack.url.replace("http://", "ws://") + "/ws/inventory/"
    with connect(ws_url, origin=stack.url, open_timeout=10) as socket_:
        socket_.send(json.dumps({"type": "subscribe", "variants": [variant.pk]}))
        assert json.loads(socket_.recv(timeout=10)) == {"type": "subscribed", "variants": [variant.pk]}
        open_sockets = requests.get(stack.url + "/metrics", timeout=10).text
        assert 'ishop_websocket_connections_open{stream="inventory"} 1.0' in open_sockets

        token = form_value(page.text, "csrfmiddlewaretoken")
        added = guest.post(stack.url + "/cart/add/", data={"csrfmiddlewaretoken": token, "product": product.pk,
                                                          "size": "M", "colour": "Gray", "quantity": 2}, timeout=30)
        assert added.status_code == 200 and "to your cart" in added.text
        details = guest.get(stack.url + "/checkout/", timeout=30)
        review = guest.post(stack.url + "/checkout/", timeout=30, data={
            **ADDRESS, "csrfmiddlewaretoken": form_value(details.text, "csrfmiddlewaretoken")})
        assert review.status_code == 200 and "Place order and pay $109.00" in review.text
        request_id = f"e2e-{uuid.uuid4().hex}"
        done = guest.post(stack.url + "/checkout/review/", timeout=30, headers={"X-Request-ID": request_id}, data={
            "csrfmiddlewaretoken": form_value(review.text, "csrfmiddlewaretoken"),
            "idempotency_key": form_value(review.text, "idempotency_key"), "card_number": "4242 4242 4242 4242"})
        order = Order.objects.get()
        assert done.status_code == 200 and done.url.endswith(f"/checkout/confirmation/{order.number}/")
        assert order.customer is None and order.total == Decimal("109.00")
        assert Variant.objects.get(pk=variant.pk).stock == 3

        # Live stock through nginx's /ws/ and daphne.
        message = json.loads(socket_.recv(timeout=10))
        assert (message["type"], message["variant"], message["stock"]) == ("stock", variant.pk, 3)

    # The request id of the checkout POST was echoed, and logged by nginx and Django.
    assert done.history[0].headers["X-Request-ID"] == request_id
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        nginx_ids = {line.get("request_id") for line in stack.json_lines("nginx")}
        django_ids = {line.get("request_id") for line in stack.json_lines("web")}
        if request_id in nginx_ids and request_id in django_ids:
            break
        time.sleep(0.2)
    assert request_id in nginx_ids and request_id in django_ids, stack.log()[-4000:]

    # /metrics (from 127.0.0.1, through nginx) adds up every gunicorn worker.
    metrics = requests.get(stack.url + "/metrics", timeout=10)
    assert metrics.status_code == 200
    assert metric(metrics.text, "ishop_orders_placed_total") == 1
    assert metric(metrics.text, "django_http_requests_latency_seconds_by_view_method_count") >= 5
    assert metric(metrics.text, "django_db_execute_total") > 0
    # The worker's task outcomes are in the same scrape (it ran the start-up recovery task).
    recovery = 'ishop_celery_tasks_total{outcome="success",task="catalog.tasks.requeue_stale_images"}'
    deadline = time.monotonic() + 30
    while recovery not in metrics.text and time.monotonic() < deadline:
        time.sleep(0.5)
        metrics = requests.get(stack.url + "/metrics", timeout=10)
    assert metric(metrics.text, "ishop_celery_tasks_total") >= 1, metrics.text
    # nginx overwrites a client's X-Real-IP with the real peer, so it cannot be used to pose as an
    # outsider or an insider (shop/tests/test_operations.py checks Django's side of the rule).
    assert requests.get(stack.url + "/metrics", headers={"X-Real-IP": "203.0.113.9"}, timeout=10).status_code == 200
