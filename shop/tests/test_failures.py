"""Failure behaviour against the real services (issue 8).

- Redis stops: pages are served and orders taken; cache and channel-layer errors are logged and
  degrade; /ready/ names Redis (and the channel layer on it) as down. The Redis stopped is a
  throwaway redis-server on a free port (catalog.tests.test_consumers.ThrowawayRedis), never the
  shared one.
- A Celery worker is SIGKILLed in the middle of a rendition: the worker started in its place
  makes them at once (its start-up recovery finds the image pending; the killed job would come back
  from the broker only after the visibility timeout), and the renditions exist exactly once.
- A worker that (re)starts finds the renditions left pending (their jobs lost) and the rollups
  owed since the last closed day, and completes them (shop.recovery: CELERY_WORKER_READY_TASKS).

The workers are real `celery -A shop worker` processes on the test database and the real Redis,
each consuming a queue of its own, in their own process group (so SIGKILL takes the whole worker).
"""
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from catalog import services as catalog_services
from catalog.images import rendition_widths
from catalog.models import ProductImage, Rendition, Variant
from catalog.tests.conftest import _database_url, wait_for
from catalog.tests.factories import ProductFactory, VariantFactory
from catalog.tests.test_consumers import throwaway_redis  # noqa: F401 - the fixture (a redis-server child)
from orders.models import Order
from payments.testing import checkout_and_approve

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = {"email": "gale@example.com", "shipping_name": "Gale Guest", "shipping_line1": "1 Main Street",
           "shipping_city": "Springfield", "shipping_postcode": "62701", "shipping_region": "IL", "shipping_country": "US",
           "shipping_method": "standard"}


# --- Redis stopped ------------------------------------------------------------------------------


@pytest.fixture
def redis_that_dies(throwaway_redis, settings):
    """The shop's cache, channel layer and readiness check on a throwaway Redis (returned)."""
    server = throwaway_redis
    settings.REDIS_URL = server.url
    settings.CACHES = {"default": {"BACKEND": "shop.cache.DegradingRedisCache", "LOCATION": server.url,
                                   "KEY_PREFIX": f"failure-{uuid.uuid4().hex[:8]}",
                                   "OPTIONS": {"SOCKET_TIMEOUT": 1.0}}}
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": server.url, "socket_timeout": 2, "socket_connect_timeout": 2}]}}}
    return server


def test_with_redis_stopped_pages_are_served_and_orders_taken(client, redis_that_dies, caplog):
    variant = VariantFactory(sku="MH01-M-Gray", size="M", colour="Gray", stock=5, price=Decimal("52.00"),
                             product__name="Chaz Kangeroo Hoodie")
    product = variant.product
    assert client.get("/ready/").status_code == 200  # the throwaway Redis is really in use
    cache.set("warm", "yes")
    assert cache.get("warm") == "yes"

    redis_that_dies.stop()
    caplog.set_level(logging.WARNING)

    assert client.get("/").status_code == 200
    page = client.get(product.get_absolute_url())
    assert page.status_code == 200 and "Chaz Kangeroo Hoodie" in page.content.decode()
    assert cache.get("warm", "miss") == "miss"  # a miss, not an exception

    data = {"product": product.pk, "size": "M", "colour": "Gray", "quantity": 2}
    assert client.post(reverse("orders:cart_add"), data, follow=True).status_code == 200
    review = client.post(reverse("orders:checkout"), ADDRESS, follow=True)
    key = review.context["form"]["idempotency_key"].value()
    done = checkout_and_approve(client, key)
    order = Order.objects.get()
    assert done.redirect_chain[-1][0] == reverse("orders:confirmation", args=[order.number])
    assert Variant.objects.get(pk=variant.pk).stock == 3

    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("Cache unavailable" in message for message in errors), errors
    assert any("Live update failed" in message for message in errors), errors  # the stock broadcast

    ready = client.get("/ready/")
    assert ready.status_code == 503
    assert ready.json()["failed"] == ["channel_layer", "redis"]  # the database is fine
    assert "Connection" in ready.json()["detail"]["redis"]


# --- Real workers ------------------------------------------------------------------------------


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole worker: the main process and its pool children."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path, settings, monkeypatch):
    """A factory of real workers on one queue of this test's own; rendition jobs sent by this test
    go to that queue, and MEDIA_ROOT is shared with the workers. Everything is stopped and the
    queue deleted afterwards."""
    if not django_settings.REDIS_URL:
        pytest.skip("real Celery workers need Redis: set REDIS_URL (make test and CI do)")
    from catalog.tasks import make_renditions

    queue = f"test-failures-{uuid.uuid4().hex[:10]}"
    media_root = tmp_path / "media"
    media_root.mkdir(exist_ok=True)
    settings.MEDIA_ROOT = media_root
    monkeypatch.setattr(make_renditions, "apply_async", partial(make_renditions.apply_async, queue=queue))
    started: list[Worker] = []

    def start(*, visibility_timeout: int = 3600) -> Worker:
        log_path = tmp_path / f"worker-{len(started) + 1}.log"
        env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict),
               "REDIS_URL": django_settings.REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false",
               "DJANGO_MEDIA_ROOT": str(media_root), "CELERY_TASK_DEFAULT_QUEUE": queue,
               "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout), "CELERY_UNACKED_RESTORE_INTERVAL": "1",
               "DJANGO_LOG_FORMAT": "json"}
        command = [sys.executable, "-m", "celery", "-A", "shop", "worker", "--queues", queue,
                   "--hostname", f"{queue}-{len(started) + 1}@%h", "--pool", "prefork", "--concurrency", "1",
                   "--prefetch-multiplier", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        worker = Worker(process, log_path)
        started.append(worker)
        wait_for(lambda: " ready." in worker.log() or process.poll() is not None, timeout=60,
                 message=lambda: f"the worker did not start in 60 s:\n{worker.log()}")
        assert process.poll() is None, f"the worker exited:\n{worker.log()}"
        return worker

    start.queue = queue
    yield start
    for worker in started:
        worker.stop()
    with redis.Redis.from_url(django_settings.REDIS_URL) as client:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture(scope="module")
def slow_png() -> bytes:
    """A 36-megapixel PNG (the limit is 40): its renditions take a worker a few seconds, long enough to kill it
    in the middle."""
    image = Image.linear_gradient("L").resize((6000, 6000)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def upload(data: bytes, name: str) -> ProductImage:
    return catalog_services.save_product_image(image=ProductImage(product=ProductFactory(), alt_text=name),
                                               upload=ContentFile(data, name=name))


def received_ids(log: str) -> list[str]:
    return re.findall(r"catalog\.tasks\.make_renditions\[([0-9a-f-]{36})\] received", log)


def test_a_worker_killed_mid_task_leaves_it_to_the_next_worker_and_it_happens_once(workers, slow_png):
    first = workers(visibility_timeout=5)
    image = upload(slow_png, "slow.png")

    def started() -> bool:
        return ProductImage.objects.filter(pk=image.pk, attempts__gte=1).exists()

    wait_for(started, timeout=60, message=lambda: f"the job never started:\n{first.log()}")
    first.kill()  # SIGKILL to the main process and its child, mid-rendition

    image = ProductImage.objects.get(pk=image.pk)
    assert image.status == ProductImage.Status.PENDING, "the job finished before the kill: use a bigger image"
    [task_id] = received_ids(first.log())

    # Started at once, as the supervisor does; Redis would hand the killed job back only after an hour.
    second = workers(visibility_timeout=3600)
    wait_for(lambda: ProductImage.objects.get(pk=image.pk).status != ProductImage.Status.PENDING, timeout=120,
             message=lambda: f"the job was not redone:\n{second.log()}")
    assert task_id not in received_ids(second.log()) and received_ids(second.log())  # a new job, sent at its start

    image = ProductImage.objects.get(pk=image.pk)
    assert image.status == ProductImage.Status.READY and image.attempts == 0
    renditions = list(Rendition.objects.filter(image=image))
    expected = sorted((fmt, width) for fmt in ("jpeg", "webp") for width in rendition_widths(6000))
    assert sorted((r.format, r.width) for r in renditions) == expected  # each exactly once
    files = default_storage.listdir(f"renditions/{image.pk}")[1]
    assert sorted(files) == sorted(Path(r.file.name).name for r in renditions)  # no stray half-written copy


def test_a_pool_process_killed_mid_task_gives_the_job_back_at_once(workers, slow_png):
    """SIGKILL (an OOM kill, say) to the worker's pool process only: the worker sees it lost and
    puts the job back (task_reject_on_worker_lost), so it reruns without waiting for the
    visibility timeout (an hour here)."""
    worker = workers(visibility_timeout=3600)
    image = upload(slow_png, "slow.png")
    wait_for(lambda: ProductImage.objects.filter(pk=image.pk, attempts__gte=1).exists(), timeout=60,
             message=lambda: f"the job never started:\n{worker.log()}")
    children = Path(f"/proc/{worker.process.pid}/task/{worker.process.pid}/children").read_text().split()
    assert len(children) == 1, children  # --concurrency 1
    os.kill(int(children[0]), signal.SIGKILL)
    assert ProductImage.objects.get(pk=image.pk).status == ProductImage.Status.PENDING

    wait_for(lambda: ProductImage.objects.get(pk=image.pk).status != ProductImage.Status.PENDING, timeout=90,
             message=lambda: f"the job was not redone:\n{worker.log()}")
    image = ProductImage.objects.get(pk=image.pk)
    assert image.status == ProductImage.Status.READY
    [first, again] = received_ids(worker.log())
    assert first == again  # the same task, redelivered to the same worker's new pool process
    assert Rendition.objects.filter(image=image).count() == 2 * len(rendition_widths(6000))


def test_a_restarted_worker_completes_the_renditions_left_pending(workers, luma_dir):
    # Jobs sent while no worker runs, then lost (a Redis without persistence restarted, say).
    photos = sorted((luma_dir / "images").glob("m/h/mh0*.jpg"))[:2]
    images = [upload(path.read_bytes(), path.name) for path in photos]
    with redis.Redis.from_url(django_settings.REDIS_URL) as client:
        client.delete(workers.queue)
    assert set(ProductImage.objects.values_list("status", flat=True)) == {ProductImage.Status.PENDING}

    worker = workers()
    wait_for(lambda: not ProductImage.objects.filter(status=ProductImage.Status.PENDING).exists(), timeout=120,
             message=lambda: f"pending renditions were not completed:\n{worker.log()}")
    assert set(ProductImage.objects.values_list("status", flat=True)) == {ProductImage.Status.READY}
    assert Rendition.objects.filter(image__in=images).count() == 12
    assert "sent recovery tasks" in worker.log()


def test_a_restarted_worker_completes_the_rollups_left_pending(workers):
    # The rollups were closed through four days ago, then no worker ran: three days of orders are owed.
    from analytics.models import DailySales, RollupWatermark
    from analytics.tests.test_tasks import last_closable_day, placed_days_ago

    today = timezone.localdate()
    variant = VariantFactory(price=Decimal("8.00"), stock=10)
    orders = {days_ago: placed_days_ago(variant, days_ago, f"owed-{days_ago}") for days_ago in (3, 2, 0)}
    RollupWatermark.objects.create(pk=1, closed_through=today - timedelta(days=4))

    worker = workers()
    wait_for(lambda: DailySales.objects.count() == 3, timeout=120,
             message=lambda: f"the rollups owed were not completed:\n{worker.log()}")
    assert list(DailySales.objects.values_list("day", "orders", "gross_revenue")) == [
        (today - timedelta(days=days_ago), 1, orders[days_ago].total) for days_ago in (3, 2, 0)]
    assert RollupWatermark.objects.get().closed_through == last_closable_day()
    assert "analytics.tasks.refresh_today[" in worker.log()


def test_the_request_id_follows_an_upload_to_the_worker(workers, client):
    """One request can be followed to the worker: the id sent in X-Request-ID is echoed, and the
    worker's JSON log lines for the rendition job it caused carry it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.tests.factories import UserFactory
    from catalog.tests.factories import jpeg_file

    worker = workers()
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    product = ProductFactory()
    request_id = f"trace-{uuid.uuid4().hex}"
    response = client.post(reverse("product-image-upload", args=[product.pk]),
                           {"image": SimpleUploadedFile("bag.jpg", jpeg_file(size=(400, 500)).read(), "image/jpeg")},
                           HTTP_X_REQUEST_ID=request_id)
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == request_id

    def logged() -> list[dict]:
        lines = []
        for line in worker.log().splitlines():
            if line.startswith("{") and request_id in line:
                lines.append(json.loads(line))
        return lines

    wait_for(lambda: {"task_started", "task_succeeded"} <= {line["event"] for line in logged()}, timeout=60,
             message=lambda: f"no worker log line carries {request_id}:\n{worker.log()}")
    started = next(line for line in logged() if line["event"] == "task_started")
    assert started["task"] == "catalog.tasks.make_renditions" and started["request_id"] == request_id
    assert ProductImage.objects.get(pk=response.json()["id"]).status == ProductImage.Status.READY
