"""Fixtures for the image pipeline tests.

- `hostile_corpus`: hostile and broken files built here, at run time (a 100 MP PNG of a few KB,
  a truncated JPEG, a PNG+HTML polyglot, an EPS file, a zero-byte file, and more).
- `luma_photo` / `luma_photos`: real Luma photographs, read from ../shared/data at run time.
- `swapped_icc`: an ICC profile whose red and green primaries are swapped (not sRGB).
- `celery_worker`: a real `celery -A shop worker` process on the real Redis and the test
  database, taking jobs from a queue of its own (needs REDIS_URL, as `make test` sets).
- `s3_storage`: default storage switched to S3 on a local moto server, in a new bucket.
"""
import io
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from PIL import Image

BASE_DIR = Path(__file__).resolve().parents[2]


# --- Files ------------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    """`image` saved as `fmt` (a Pillow format name), as bytes."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(width: int, height: int) -> bytes:
    """A 1-bit greyscale PNG of `width` x `height` px, all black, compressed as far as zlib goes
    (a 10000 x 10000 one is about 12 KB), written chunk by chunk without allocating the pixels."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def hostile_corpus() -> dict[str, tuple[bytes, str]]:
    """Files every upload path must refuse: name -> (bytes, a phrase the refusal names)."""
    photo = encode(Image.linear_gradient("L").resize((640, 480)).convert("RGB"), "JPEG", quality=90)
    small_png = encode(Image.new("RGB", (32, 32), "teal"), "PNG")
    text_chunk = png_chunk(b"tEXt", b"Comment\x00<script>alert(document.cookie)</script>")
    return {
        "bomb_100mp_png": (blank_png(10_000, 10_000), "too large (100.0 megapixels"),
        "bomb_60mp_png": (blank_png(10_000, 6_000), "too large (60.0 megapixels"),
        "truncated_jpeg": (photo[: len(photo) // 2], "truncated"),
        "png_html_polyglot": (small_png + b"<html><body><script>alert(1)</script></body></html>", "polyglot"),
        "png_script_in_text_chunk": (small_png[:33] + text_chunk + small_png[33:], "<script"),
        "jpeg_html_comment": (encode(Image.new("RGB", (40, 30)), "JPEG", comment=b"<html><script>x</script>"),
                              "polyglot"),
        "eps": (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nnewpath 0 0 moveto showpage\n%%EOF\n",
                "EPS"),
        "zero_bytes": (b"", "empty"),
        "html_named_jpg": (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "markup"),
        "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "markup"),
        "tiff": (encode(Image.new("RGB", (8, 8)), "TIFF"), "TIFF"),
    }


@pytest.fixture(scope="session")
def luma_photos() -> list[Path]:
    """Real Luma photographs (1274 x 1580 and 1080 x 1340 px JPEGs), read from ../shared/data."""
    data = Path(os.environ.get("ISHOP_DEMO_DATA", BASE_DIR.parent / "shared" / "data"))
    folder = data / "luma" / "images"
    assert folder.is_dir(), f"Luma images not found at {folder}; set ISHOP_DEMO_DATA"
    return sorted(folder.glob("m/h/mh0*.jpg"))[:6]


@pytest.fixture(scope="session")
def luma_photo(luma_photos) -> Path:
    return luma_photos[0]


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


@pytest.fixture(scope="session")
def swapped_icc() -> bytes:
    """A valid ICC v2 RGB display profile (gamma 2.2) whose red and green primaries are those of
    sRGB swapped: a pure red pixel tagged with it is, converted to sRGB, green."""
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    description = b"Swapped primaries test RGB\x00"
    tags = {
        b"desc": b"desc" + bytes(4) + struct.pack(">I", len(description)) + description + bytes(4 + 4 + 2 + 1 + 67),
        b"wtpt": b"XYZ " + bytes(4) + _s15(0.9642) + _s15(1.0) + _s15(0.8249),
        b"rXYZ": b"XYZ " + bytes(4) + b"".join(map(_s15, green)),
        b"gXYZ": b"XYZ " + bytes(4) + b"".join(map(_s15, red)),
        b"bXYZ": b"XYZ " + bytes(4) + b"".join(map(_s15, blue)),
        b"rTRC": b"curv" + bytes(4) + struct.pack(">IH", 1, 0x0233) + bytes(2),
        b"cprt": b"text" + bytes(4) + b"none\x00" + bytes(3),
    }
    tags[b"gTRC"] = tags[b"bTRC"] = tags[b"rTRC"]
    table_size = 4 + 12 * len(tags)
    offset, table, body = 128 + table_size, b"", b""
    for signature, data in tags.items():
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + bytes(-len(data) % 4)
    size = 128 + table_size + len(body)
    header = (
        struct.pack(">I", size) + bytes(4) + struct.pack(">I", 0x02100000) + b"mntr" + b"RGB " + b"XYZ "
        + bytes(12) + b"acsp" + bytes(4 + 4 + 4 + 4 + 8) + struct.pack(">I", 0)
        + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + bytes(4 + 16 + 28)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


# --- A real Celery worker -------------------------------------------------------------------------


def _database_url(db: dict) -> str:
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{credentials}@{host}/{db['NAME']}"


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    queue: str
    media_root: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_worker(*, queue: str, log_path: Path, media_root: Path, extra_env: dict,
                   pool: list[str]) -> Iterator[WorkerProcess]:
    """`celery -A shop worker` as a subprocess on the test database and the real Redis, consuming
    only `queue` (so that jobs other test runs left on the shared default queue never reach it),
    with `pool` options (e.g. ["--pool", "solo"]) and `extra_env` on top of this process's
    environment. Yields once the worker says it is ready (60 s at most); then stops it (warm
    shutdown: it finishes the job in hand, killed after 30 s) and deletes the queue from Redis.
    The worker's start-up recovery tasks (settings.CELERY_WORKER_READY_TASKS) have run by then, on
    an emptied event buffer, so that they neither write events other tests left buffered nor race
    the first test for its own. Needs REDIS_URL: skipped without it on a laptop, failed in CI,
    where nothing may be skipped."""
    if not django_settings.REDIS_URL:
        pytest.skip("a real Celery worker needs Redis: set REDIS_URL (make test and CI do)")
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict),
           "REDIS_URL": django_settings.REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false", **extra_env}
    command = [sys.executable, "-m", "celery", "-A", "shop", "worker", "--queues", queue, "--hostname",
               f"{queue}@%h", *pool, "--without-gossip", "--without-mingle", "--without-heartbeat",
               "--loglevel", "INFO"]
    from analytics import events

    events.clear_buffer()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = WorkerProcess(process=process, queue=queue, media_root=media_root, log_path=log_path)
    recovery_tasks = len(django_settings.CELERY_WORKER_READY_TASKS)
    deadline = time.monotonic() + 60
    def recovered() -> bool:  # its recovery tasks ran, or a peer of its queue had just sent them
        log = worker.log()
        return "already sent by a peer" in log or log.count("task_succeeded") >= recovery_tasks

    while " ready." not in worker.log() or not recovered():
        assert process.poll() is None, f"the Celery worker exited:\n{worker.log()}"
        assert time.monotonic() < deadline, f"the Celery worker did not start and recover in 60 s:\n{worker.log()}"
        time.sleep(0.2)
    try:
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        import redis

        with redis.Redis.from_url(django_settings.REDIS_URL) as client:  # leave no trace of the queue
            client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture(scope="module")
def _worker_process(django_db_setup, tmp_path_factory) -> Iterator[WorkerProcess]:
    """A real worker (prefork, 1 child) for the image tasks, with a media folder of its own.
    One per test module; stopped before the test database is dropped."""
    queue = f"test-images-{uuid.uuid4().hex[:10]}"
    media_root = tmp_path_factory.mktemp("worker-media")
    with running_worker(queue=queue, log_path=media_root.parent / f"{queue}.log", media_root=media_root,
                        extra_env={"DJANGO_MEDIA_ROOT": str(media_root)},
                        pool=["--pool", "prefork", "--concurrency", "1"]) as worker:
        yield worker


@pytest.fixture
def celery_worker(_worker_process, transactional_db, settings, monkeypatch) -> WorkerProcess:
    """The real worker for one `transaction=True` test: jobs this process sends go to its queue,
    and MEDIA_ROOT is the folder the worker writes to. Rows must be committed to be seen."""
    from catalog.tasks import make_renditions

    monkeypatch.setattr(make_renditions, "apply_async",
                        partial(make_renditions.apply_async, queue=_worker_process.queue))
    settings.MEDIA_ROOT = _worker_process.media_root
    return _worker_process


@pytest.fixture
def jobs_run_here(monkeypatch) -> list[int]:
    """Rendition jobs run in this process when sent (as with the embedded default's eager Celery),
    whatever the broker; returns the ids of the images whose job ran. Still only after commit:
    use `django_capture_on_commit_callbacks(execute=True)` in non-transactional tests."""
    from catalog.tasks import make_renditions

    ran: list[int] = []

    def run(image_id: int) -> None:
        ran.append(image_id)
        make_renditions.apply(args=[image_id], throw=True)

    monkeypatch.setattr(make_renditions, "delay", run)
    return ran


def wait_for(condition: Callable[[], bool], *, timeout: float, message: Callable[[], str]) -> None:
    """Poll `condition` every 0.1 s until it holds; fail with `message()` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(message())
        time.sleep(0.1)


# --- S3 on a local moto server --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory) -> Iterator[str]:
    """A moto S3 server (`moto_server`, from moto[server]) on 127.0.0.1 and a free port."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    executable = Path(sys.executable).parent / "moto_server"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(executable), "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                                   stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, f"moto_server exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"moto_server did not start:\n{log_path.read_text()}"
            time.sleep(0.2)
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


@dataclass
class S3:
    endpoint: str
    bucket: str
    client: object  # boto3 S3 client

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@pytest.fixture
def s3_storage(moto_endpoint, settings) -> S3:
    """Default storage is django-storages' S3Storage on the moto server, in a new bucket,
    configured through the same AWS_* settings production uses."""
    import boto3

    bucket = f"ishop-test-{uuid.uuid4().hex[:12]}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", **credentials)
    client.create_bucket(Bucket=bucket)
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = moto_endpoint
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_ACCESS_KEY_ID = settings.AWS_SECRET_ACCESS_KEY = "testing"
    # As shop/settings.py does when AWS_STORAGE_BUCKET_NAME is set: S3Storage reads the AWS_*
    # settings (including AWS_S3_OBJECT_PARAMETERS' Cache-Control) when it is created.
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
    return S3(endpoint=moto_endpoint, bucket=bucket, client=client)
