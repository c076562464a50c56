"""Issue 8's "Done when": the `make prod` stack comes up and a guest buys through nginx.

The fixture runs what `make prod` runs (tests/stack.py: deploy/prod.py, migrate, collectstatic,
then nginx and the Procfile's web, ws, worker and beat under supervisord) with DJANGO_DEBUG=false
on the test database and the real Redis, on a free port, and stops it the way `make prod-stop`
does: nothing of it is left running.

Then, over HTTP through nginx: a guest opens the product page, adds two to the cart and checks
out; a WebSocket opened through nginx's /ws/ hears the new stock; /metrics counts the order; the
request id sent with the checkout is echoed and appears in nginx's and Django's JSON logs; static
files and media come from nginx with their cache headers.
"""
import html
import json
import re
import socket
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from catalog.models import Variant
from catalog.tests.conftest import _database_url
from catalog.tests.factories import VariantFactory
from orders.models import Order
from tests.stack import ADDRESS, ROLES, form_value, running_stack


@pytest.fixture
def production_stack(transactional_db, tmp_path):
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("the production stack needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL "
                    "(make test does)")
    with running_stack(tmp_path, database_url=_database_url(connection.settings_dict),
                       redis_url=settings.REDIS_URL) as stack:
        yield stack
    # Everything stopped: nothing listens on the port or the sockets, and no process is left.
    with pytest.raises(requests.ConnectionError):
        requests.get(stack.url + "/health/", timeout=2)
    assert not (stack.run_dir / "web.sock").exists() or not _accepts(stack.run_dir / "web.sock")
    assert not stack.leftovers(), stack.leftovers()


def _accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
            return True
        except OSError:
            return False


def metric(text: str, name: str) -> float:
    return sum(float(value) for value in re.findall(r"^" + re.escape(name) + r"(?:\{[^}]*\})? ([0-9.e+-]+)$",
                                                    text, re.MULTILINE))


def test_a_guest_buys_through_nginx_and_sees_live_stock_and_the_metrics_count_it(production_stack):
    stack = production_stack
    assert set(stack.processes()) == set(ROLES)  # the whole topology runs, under the supervisor
    # supervisord says RUNNING once a program has stayed up for its startsecs (5 s), which may come
    # after the stack already answers.
    deadline = time.monotonic() + 30
    while (missing := [p for p in ROLES if f"success: {p} entered RUNNING state" not in stack.log()]) \
            and time.monotonic() < deadline:
        time.sleep(0.5)
    assert missing == [], stack.log()[-3000:]
    deadline = time.monotonic() + 60  # beat names its scheduler once Django is set up: slow under load
    while "django_celery_beat" not in stack.process_log("beat") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "django_celery_beat" in stack.process_log("beat"), stack.tail()
    variant = VariantFactory(sku="MH01-M-Gray", size="M", colour="Gray", stock=5, price=Decimal("52.00"),
                             product__name="Chaz Kangeroo Hoodie")
    product = variant.product
    guest = requests.Session()

    page = guest.get(stack.url + product.get_absolute_url(), timeout=30)
    assert page.status_code == 200 and "Chaz Kangeroo Hoodie" in page.text
    assert page.headers["Server"].startswith("nginx")
    assert page.headers["Content-Encoding"] == "gzip"  # pages leave nginx compressed (requests asks for it)
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
        assert review.status_code == 200 and "Place order and continue to payment ($109.00)" in review.text
        request_id = f"e2e-{uuid.uuid4().hex}"
        placed = guest.post(stack.url + "/checkout/review/", timeout=30, headers={"X-Request-ID": request_id}, data={
            "csrfmiddlewaretoken": form_value(review.text, "csrfmiddlewaretoken"),
            "idempotency_key": form_value(review.text, "idempotency_key")})
        assert "/payments/test/" in placed.url  # the test provider's page (SHOP_TEST_PAYMENTS in the stack)
        # "Approve" posts the signed event to the webhook path through nginx, as Stripe would.
        done = guest.post(stack.url + "/payments/stripe/webhook/", timeout=30, headers={"X-Request-ID": request_id},
                          data={name: html.unescape(form_value(placed.text, name))
                                for name in ("payload", "signature", "session")})
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
    assert request_id in nginx_ids and request_id in django_ids, stack.tail(4000)

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
