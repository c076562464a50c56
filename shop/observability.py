"""Operations: request ids, Prometheus metrics, and the liveness/readiness probes' checks.

- Request ids: `RequestIdMiddleware` accepts a well-formed `X-Request-ID` from the proxy (nginx
  sets one on every request), or makes one, and echoes it in the response. django-structlog binds
  it to every log line of the request and carries it to the Celery tasks the request sends
  (settings: DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID, DJANGO_STRUCTLOG_CELERY_ENABLED).
- Metrics (`/metrics`, `metrics` view): django-prometheus's request latency histograms and
  database query counters, plus the shop's own: orders placed, Celery tasks by outcome, open
  WebSocket connections per stream. With PROMETHEUS_MULTIPROC_DIR set (`make prod` sets it), every
  gunicorn worker, daphne and Celery process writes its samples there and one scrape sums them.
  Access: from METRICS_ALLOWED_IPS, or with `Authorization: Bearer <METRICS_BEARER_TOKEN>`.
- Readiness (`readiness_problems`): the database, Redis and the channel layer, each with a short
  timeout; /ready/ answers 503 naming the ones that failed.
"""
import asyncio
import hmac
import ipaddress
import logging
import os
import re
import time
import uuid

import prometheus_client
import structlog
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django_structlog.signals import bind_extra_request_metadata
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

# --- Request ids ------------------------------------------------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
# What an upstream id may look like (nginx's $request_id is 32 hex digits; a UUID fits too):
# anything else (too long, spaces, control characters) is replaced, never logged as given.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{8,128}")


def clean_request_id(value: str | None) -> str:
    """The upstream id if it is 8-128 characters of [A-Za-z0-9._:-], else a new UUID4 hex (32 chars)."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give every request one id: the proxy's `X-Request-ID` if well formed, a new one otherwise.

    Sits before django-structlog's RequestMiddleware, which reads the (cleaned) header and binds
    `request_id` to the request's log lines and its Celery tasks. The id is `request.request_id`
    and is echoed in the response's `X-Request-ID` header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.META["HTTP_X_REQUEST_ID"] = request_id
        request.request_id = request_id
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class ClientErrorsWithoutTraceback(logging.Filter):
    """Log filter (on the console handler, settings.LOGGING): a record about a response below 500
    (Django logs PermissionDenied and every SuspiciousOperation, such as a bad Host header, with
    its traceback) keeps its line and loses the traceback. A client's mistake is not a crash."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.exc_info and isinstance(status, int) and status < 500:
            record.exc_info, record.exc_text = None, None
        return True


# --- Metrics ----------------------------------------------------------------------------------

ORDERS_PLACED = prometheus_client.Counter(
    "ishop_orders_placed", "Orders placed (committed), by payment provider.", ["payment_provider"])
CELERY_TASKS = prometheus_client.Counter(
    "ishop_celery_tasks", "Celery tasks finished, by task name and outcome (success, failure, retry).",
    ["task", "outcome"])


@receiver(post_save, sender="orders.Order", dispatch_uid="shop.observability.count_order")
def _count_placed_order(sender, instance, created: bool, **kwargs) -> None:
    """An order row is created only by orders.services.place_order: count it once it commits."""
    if created:
        from django.db import transaction

        provider = getattr(instance, "payment_provider", "") or "unknown"
        transaction.on_commit(lambda: ORDERS_PLACED.labels(payment_provider=provider).inc(), robust=True)


def _task_name(sender) -> str:
    return getattr(sender, "name", None) or str(sender)


def _on_task_success(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender), outcome="success").inc()


def _on_task_failure(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender), outcome="failure").inc()


def _on_task_retry(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender), outcome="retry").inc()


def connect_celery_metrics() -> None:
    """Count every task outcome where the task runs: in a worker, or in-process when eager
    (called from ShopConfig.ready; connecting twice is harmless)."""
    from celery import signals

    signals.task_success.connect(_on_task_success, dispatch_uid="ishop-metrics-success")
    signals.task_failure.connect(_on_task_failure, dispatch_uid="ishop-metrics-failure")
    signals.task_retry.connect(_on_task_retry, dispatch_uid="ishop-metrics-retry")


class WebSocketCollector:
    """`ishop_websocket_connections_open{stream=...}`: read at scrape time from the cache counters
    that every daphne process keeps (catalog.live.realtime.open_connections), so it spans processes."""

    def collect(self):
        from catalog.live import realtime

        family = GaugeMetricFamily("ishop_websocket_connections_open",
                                   "Open WebSocket connections, by stream.", labels=["stream"])
        try:
            counts = realtime.open_connections()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the cache is down
            logger.warning("WebSocket connection counts unavailable (cache down?)", exc_info=True)
            counts = {}
        for stream, count in sorted(counts.items()):
            family.add_metric([stream], count)
        yield family


def metrics_registry() -> prometheus_client.CollectorRegistry:
    """Every process's samples (multiprocess mode) or this process's, plus the WebSocket gauge."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.CollectorRegistry()
        registry.register(_ProcessRegistry())
    registry.register(WebSocketCollector())
    return registry


class _ProcessRegistry:
    """The default registry's collectors, re-exposed (a registry cannot be registered in another)."""

    def collect(self):
        yield from prometheus_client.REGISTRY.collect()


def client_address(request) -> str:
    """The caller's IP address, the one function that says who a client is: the throttles
    (shop.throttling), the login lockout (AXES_CLIENT_IP_CALLABLE), the logs (bound as `ip` on
    every line of the request) and the analytics login events all use it.

    With settings.SHOP_TRUSTED_PROXY_COUNT = 0 (the default in development: daphne or runserver
    face the client) it is REMOTE_ADDR. With N > 0 proxies in front (production: nginx, so 1),
    each of which appends the address it saw to X-Forwarded-For, it is the N-th entry from the
    right of that header: the address the outermost trusted proxy saw. Entries further left were
    written by the client and are never believed. Behind nginx on a Unix socket REMOTE_ADDR is
    empty, so without this every client was one client. A header with fewer entries than N gives
    its leftmost entry (as DRF's NUM_PROXIES does). Returns the address in its compressed form
    ("2001:db8::1"), or "" when there is none or it is not an IP address. `request` is a Django
    HttpRequest or a DRF Request.
    """
    meta = request.META
    proxies = settings.SHOP_TRUSTED_PROXY_COUNT
    candidate = meta.get("REMOTE_ADDR", "") or ""
    if proxies > 0:
        hops = [hop.strip() for hop in (meta.get("HTTP_X_FORWARDED_FOR", "") or "").split(",") if hop.strip()]
        if hops:
            candidate = hops[-min(proxies, len(hops))]
    try:
        return ipaddress.ip_address(candidate).compressed
    except ValueError:
        return ""


@receiver(bind_extra_request_metadata, dispatch_uid="shop.observability.bind_client_address")
def _bind_client_address(sender, request, logger, log_kwargs, **kwargs) -> None:
    """Every log line of a request carries `ip`: client_address(request), not django-structlog's own
    guess (DJANGO_STRUCTLOG_IP_LOGGING_ENABLED is off), which believes any X-Forwarded-For."""
    structlog.contextvars.bind_contextvars(ip=client_address(request))


def metrics_access_allowed(request: HttpRequest) -> bool:
    """True if the caller's address is in METRICS_ALLOWED_IPS (addresses or networks) or it sends
    `Authorization: Bearer <METRICS_BEARER_TOKEN>` (when a token is set).

    The address is client_address(request). nginx also refuses /metrics from outside
    (deploy/nginx.conf.template)."""
    token = settings.METRICS_BEARER_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(allowed, strict=False) for allowed in settings.METRICS_ALLOWED_IPS)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition of every metric; 403 unless metrics_access_allowed."""
    if not metrics_access_allowed(request):
        return HttpResponse("Metrics are not public.\n", status=403, content_type="text/plain")
    return HttpResponse(prometheus_client.generate_latest(metrics_registry()),
                        content_type=prometheus_client.CONTENT_TYPE_LATEST)


# --- Readiness --------------------------------------------------------------------------------

READY_TIMEOUT = 2.0  # seconds each check may take


def check_database() -> None:
    """SELECT 1 on the default database (raises on failure)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis() -> None:
    """PING the Redis of REDIS_URL (cache and broker); nothing to check without REDIS_URL."""
    if not settings.REDIS_URL:
        return
    import redis

    with redis.Redis.from_url(settings.REDIS_URL, socket_timeout=READY_TIMEOUT,
                              socket_connect_timeout=READY_TIMEOUT) as client:
        client.ping()


def check_channel_layer() -> None:
    """Send a message to a new channel of the channel layer and receive it back."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer is configured")

    async def round_trip() -> None:
        name = await layer.new_channel("ready.")
        await layer.send(name, {"type": "ready.check"})
        message = await asyncio.wait_for(layer.receive(name), READY_TIMEOUT)
        if message.get("type") != "ready.check":
            raise RuntimeError(f"unexpected message {message!r}")

    async_to_sync(round_trip)()


READINESS_CHECKS = {"database": check_database, "redis": check_redis, "channel_layer": check_channel_layer}


def readiness_problems() -> dict[str, str]:
    """Run every check; returns {name: "ExceptionType: message"} for each that failed (empty: ready).
    Failures are logged (warning) with their timings."""
    problems = {}
    for name, check in READINESS_CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none raised
            problems[name] = f"{type(exc).__name__}: {exc}"[:300]
            logger.warning("Readiness check %s failed after %.2f s: %s", name, time.monotonic() - started,
                           problems[name])
    return problems
