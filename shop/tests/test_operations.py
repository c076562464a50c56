"""Probes, metrics and request ids, through the real middleware stack and (where configured) the
real PostgreSQL and Redis."""
import io
import json
import logging
import re
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client

from catalog.tests.factories import VariantFactory
from orders import services as order_services
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order


def metric_value(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text (0 if absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" ([0-9.e+-]+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_health_touches_no_database(client):
    # No django_db mark: any database access in the view would raise and fail this test.
    response = client.get("/health/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_checks_database_redis_and_channel_layer(client):
    response = client.get("/ready/")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready"}


@pytest.mark.django_db
def test_metrics_are_not_public(client, settings):
    settings.METRICS_BEARER_TOKEN = "s3cret-scrape-token"
    outsider = Client(REMOTE_ADDR="203.0.113.7")
    assert outsider.get("/metrics").status_code == 403
    assert outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200
    # Behind our nginx (SHOP_TRUSTED_PROXY_COUNT = 1; a Unix socket, so no REMOTE_ADDR), the caller is
    # the address nginx appended to X-Forwarded-For, whatever the client wrote before it.
    settings.SHOP_TRUSTED_PROXY_COUNT = 1
    assert Client(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.7").get("/metrics").status_code == 403
    assert Client(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="203.0.113.7, 127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="", HTTP_X_REAL_IP="127.0.0.1").get("/metrics").status_code == 403  # not believed
    settings.SHOP_TRUSTED_PROXY_COUNT = 0
    settings.METRICS_ALLOWED_IPS = ["203.0.113.0/24"]
    assert outsider.get("/metrics").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_metrics_count_requests_queries_orders_and_websockets(client):
    before = client.get("/metrics").content.decode()
    client.get("/health/")
    variant = VariantFactory(stock=5, price=Decimal("10.00"))
    place_paid_order(cart=cart_with((variant, 1)), customer=None, details=checkout_details(),
                               idempotency_key=uuid.uuid4().hex)
    text = client.get("/metrics").content.decode()
    assert metric_value(text, "ishop_orders_placed_total", payment_provider="test") == \
        metric_value(before, "ishop_orders_placed_total", payment_provider="test") + 1
    # Request latency histogram per view, and database query counters.
    assert re.search(r'^django_http_requests_latency_seconds_by_view_method_bucket\{.*view="health".*\} ',
                     text, re.MULTILINE)
    queries = re.findall(r'^django_db_execute_total\{alias="default",vendor="\w+"\} ([0-9.e+]+)$', text, re.MULTILINE)
    assert queries and float(queries[0]) > 0
    assert "# TYPE ishop_websocket_connections_open gauge" in text
    assert "# TYPE ishop_celery_tasks_total counter" in text


def test_the_request_id_is_accepted_echoed_and_replaced_when_malformed(client):
    assert client.get("/health/", HTTP_X_REQUEST_ID="edge-4f2a9c-0001")["X-Request-ID"] == "edge-4f2a9c-0001"
    for bad in ("short", "has spaces in it", "x" * 200, "line\nbreak-injected"):
        echoed = client.get("/health/", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", echoed), bad
    first, second = client.get("/health/")["X-Request-ID"], client.get("/health/")["X-Request-ID"]
    assert first != second and re.fullmatch(r"[0-9a-f]{32}", first)


@pytest.fixture
def json_log_lines():
    """Log records of this test, formatted by the production JSON formatter, as parsed dicts."""
    config = settings.LOGGING["formatters"]["json"]
    formatter = config["()"](**{key: value for key, value in config.items() if key != "()"})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.mark.django_db
def test_logs_are_json_lines_carrying_the_request_id(client, json_log_lines):
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="trace-0123456789")
    lines = json_log_lines()
    mine = [line for line in lines if line.get("request_id") == "trace-0123456789"]
    events = {line["event"] for line in mine}
    assert {"request_started", "request_finished"} <= events, lines
    finished = next(line for line in mine if line["event"] == "request_finished")
    assert finished["code"] == 404 and finished["level"] == "warning" and "timestamp" in finished


@pytest.mark.django_db
def test_celery_task_outcomes_are_counted(client, settings):
    """Counted where the task runs (here eagerly; in the worker in production, see
    tests/test_production_stack.py)."""
    from catalog.tasks import requeue_stale_images

    def succeeded(text: str) -> float:
        return metric_value(text, "ishop_celery_tasks_total", outcome="success",
                            task="catalog.tasks.requeue_stale_images")

    before = succeeded(client.get("/metrics").content.decode())
    requeue_stale_images.apply()
    assert succeeded(client.get("/metrics").content.decode()) == before + 1


def test_nginx_appends_the_client_address_on_every_proxied_location():
    """Issue 21: shop.observability.client_address reads the entry nginx appends to
    X-Forwarded-For (SHOP_TRUSTED_PROXY_COUNT = 1 in production), so every location nginx proxies
    to gunicorn or daphne must send it, in make prod's config and in docker-compose's."""
    import re

    from deploy.prod import DOCKER_CONF, TEMPLATE

    for conf in (TEMPLATE.read_text(), DOCKER_CONF.read_text()):
        proxied = re.findall(r"location [^{]+\{([^}]*proxy_pass[^}]*)\}", conf)
        assert len(proxied) >= 3
        for block in proxied:
            assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in block, block
