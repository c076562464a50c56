"""The `make prod` stack started by a test, and what the tests do to it.

`running_stack(...)` runs what `make prod` runs (deploy/prod.py: migrate, collectstatic, then nginx
and the Procfile's web, ws, worker and beat under supervisord) with DJANGO_DEBUG=false on the test
database, and stops it the way `make prod-stop` does (SIGKILL to its process group if it will not
stop). Nothing of it can collide with another run: nginx listens on a free port, gunicorn and daphne
on Unix sockets in the test's own folder, the worker consumes a queue of its own, and cache keys and
channel-layer channels carry a prefix of their own.

`RedisServer` is a throwaway redis-server on a fixed free port that a test can kill and start again;
`Stack.processes()` finds the stack's processes (by the ISHOP_RUN_DIR in their environment, whatever
runs them); `buy()` is a guest checkout over HTTP through nginx.
"""
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 180  # seconds: migrate, collectstatic and six processes on a shared 2-core machine
ADDRESS = {"email": "gale@example.com", "shipping_name": "Gale Guest", "shipping_line1": "1 Main Street",
           "shipping_city": "Springfield", "shipping_postcode": "12345", "shipping_country": "US",
           "shipping_method": "standard"}
# What each of the stack's processes looks like in /proc/<pid>/cmdline (the main process of each:
# the one whose parent is not the same program).
ROLES = {
    "nginx": re.compile(r"^nginx: master process"),
    "web": re.compile(r"\bgunicorn\b.*shop\.wsgi:application"),
    "ws": re.compile(r"\bdaphne\b.*shop\.asgi:application"),
    "worker": re.compile(r"\bcelery\b.* -A shop worker\b"),
    "beat": re.compile(r"\bcelery\b.* -A shop beat\b"),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server child on a free port with no persistence, which can be killed (SIGKILL) and
    started again on the same port, as an outage and a restart of the broker would be."""

    def __init__(self, directory: Path):
        self.executable = shutil.which("redis-server")
        assert self.executable, "redis-server is not on PATH"
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            assert self.process.poll() is None, f"redis-server exited with {self.process.returncode}"
            try:
                with redis.Redis.from_url(self.url, socket_connect_timeout=0.2) as client:
                    if client.ping():
                        return
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start within 10 s"
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the broker, cache and channel layer vanish at once, with everything in them."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Stack:
    """A running `make prod` stack: its URL, run folder and logs."""

    def __init__(self, url: str, run_dir: Path, log_path: Path, media_root: Path, env: dict[str, str]):
        self.url, self.run_dir, self.log_path, self.media_root, self.env = url, run_dir, log_path, media_root, env

    def log(self) -> str:
        """What `make prod` printed (the supervisor's own log: starts, exits, restarts)."""
        return self.log_path.read_text(errors="replace")

    def process_log(self, name: str) -> str:
        """Everything process `name` ("web", "ws", "worker", "beat", "nginx") wrote."""
        path = self.run_dir / "log" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def json_lines(self, name: str) -> list[dict]:
        """The JSON log lines process `name` wrote (other lines, such as a supervisor's, skipped)."""
        lines = []
        for line in self.process_log(name).splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return lines

    def logs(self) -> str:
        """The supervisor's log and every process's log, one after the other."""
        return "\n".join([self.log()] + [self.process_log(name) for name in ROLES])

    def tail(self, characters: int = 6000) -> str:
        """The end of every log, for a failure message."""
        parts = [f"--- make prod\n{self.log()[-characters:]}"]
        parts += [f"--- {name}\n{self.process_log(name)[-characters:]}" for name in ROLES]
        return "\n".join(parts)

    def processes(self) -> dict[str, int]:
        """{role: pid} of the main process of each role that is running now (see ROLES)."""
        found: dict[int, tuple[str, int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if not self._mine(entry, command):
                    continue
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile, or not ours to read
            if state == "Z" or Path(command.split(" ", 1)[0]).name in {"sh", "dash", "bash"}:
                continue  # a zombie, or the shell a process manager started the program with
            for role, pattern in ROLES.items():
                if pattern.search(command):
                    found[int(entry.name)] = (role, parent)
                    break
        return {role: pid for pid, (role, parent) in found.items() if found.get(parent, ("",))[0] != role}

    def _mine(self, entry: Path, command: str) -> bool:
        """Whether /proc/<pid> `entry` is one of this stack's processes: ISHOP_RUN_DIR in its
        environment, or (nginx, which reuses its environment's memory for its process title) the
        run folder on its command line."""
        if str(self.run_dir) in command:
            return True
        return f"ISHOP_RUN_DIR={self.run_dir}".encode() in (entry / "environ").read_bytes().split(b"\0")

    def leftovers(self) -> list[str]:
        """Command lines of every process of this stack that is still running."""
        left = []
        for entry in Path("/proc").iterdir():
            try:
                if not entry.name.isdigit():
                    continue
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z" and self._mine(entry, command):
                    left.append(command)
            except (OSError, IndexError):
                continue
        return left


@contextmanager
def running_stack(tmp_path: Path, *, database_url: str, redis_url: str, extra_env: dict | None = None) -> Iterator[Stack]:
    """`make prod` (deploy/prod.py) on a free port, until it answers /ready/; stopped afterwards as
    `make prod-stop` stops it, and the queue and keys it left in Redis deleted (if Redis is up)."""
    run_id = uuid.uuid4().hex[:10]
    run_dir = tmp_path / "run"
    media_root = tmp_path / "media"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ISHOP_RUN_DIR": str(run_dir),
        "ISHOP_PROD_PORT": str(port),
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "DJANGO_MEDIA_ROOT": str(media_root),
        "CELERY_TASK_DEFAULT_QUEUE": f"test-stack-{run_id}",
        "CACHE_KEY_PREFIX": f"test-stack-{run_id}",
        "CHANNEL_LAYER_PREFIX": f"test-stack-{run_id}",
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
        "SHOP_TEST_PAYMENTS": "true",  # issue 25: the test provider's Approve button pays
        **(extra_env or {}),
    }
    for key in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(key, None)
    log_path = tmp_path / "stack.log"
    with open(log_path, "wb") as log:
        runner = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "prod.py")], cwd=ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stack = Stack(f"http://127.0.0.1:{port}", run_dir, log_path, media_root, env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert runner.poll() is None, f"make prod stopped:\n{stack.tail()}"
            try:  # a fresh worker's first request imports the URLconf and templates: slow under load
                if requests.get(stack.url + "/ready/", timeout=30).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert time.monotonic() < deadline, f"the stack was not ready in {START_TIMEOUT} s:\n{stack.tail()}"
            time.sleep(0.5)
        yield stack
    finally:
        subprocess.run([sys.executable, str(ROOT / "deploy" / "prod.py"), "--stop"], cwd=ROOT, env=env,
                       timeout=120, capture_output=True)
        try:
            runner.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait(timeout=10)
        try:
            with redis.Redis.from_url(redis_url, socket_connect_timeout=1) as client:
                queue = env["CELERY_TASK_DEFAULT_QUEUE"]
                client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
                stale = list(client.scan_iter(f":1:test-stack-{run_id}*")) + list(client.scan_iter(f"*test-stack-{run_id}*"))
                if stale:
                    client.delete(*stale)
        except redis.exceptions.ConnectionError:
            pass


def form_value(html: str, name: str) -> str:
    match = re.search(r'name="' + re.escape(name) + r'"[^>]*value="([^"]*)"', html) or \
        re.search(r'value="([^"]*)"[^>]*name="' + re.escape(name) + r'"', html)
    assert match, f"no {name} field in the page"
    return match.group(1)


@dataclass(frozen=True)
class Purchase:
    """An order placed by `buy`: its number, and when (time.monotonic()) the request that placed
    it (the review step's POST) started and ended."""

    number: str
    placing_from: float
    placing_to: float


def buy(url: str, variant, *, email: str, quantity: int = 1, timeout: float = 30) -> Purchase:
    """A new guest opens `variant`'s product page, adds `quantity` to the cart and checks out with
    a test card, all over HTTP at `url` (safe in threads: `variant` must have its product loaded).
    Returns the Purchase; raises AssertionError (saying what went wrong) otherwise."""
    guest = requests.Session()
    page = guest.get(url + variant.product.get_absolute_url(), timeout=timeout)
    assert page.status_code == 200, f"product page: {page.status_code}"
    added = guest.post(url + "/cart/add/", timeout=timeout, data={
        "csrfmiddlewaretoken": form_value(page.text, "csrfmiddlewaretoken"), "product": variant.product_id,
        "size": variant.size, "colour": variant.colour, "quantity": quantity})
    assert added.status_code == 200 and "to your cart" in added.text, f"add to cart: {added.status_code}"
    details = guest.get(url + "/checkout/", timeout=timeout)
    review = guest.post(url + "/checkout/", timeout=timeout, data={
        **ADDRESS, "email": email, "csrfmiddlewaretoken": form_value(details.text, "csrfmiddlewaretoken")})
    assert review.status_code == 200 and "Place order and continue to payment" in review.text, \
        f"checkout details: {review.status_code}"
    placing_from = time.monotonic()
    placed = guest.post(url + "/checkout/review/", timeout=timeout, allow_redirects=False, data={
        "csrfmiddlewaretoken": form_value(review.text, "csrfmiddlewaretoken"),
        "idempotency_key": form_value(review.text, "idempotency_key")})
    placing_to = time.monotonic()
    assert placed.status_code == 302 and "/payments/test/" in placed.headers.get("Location", ""), \
        f"place order: {placed.status_code} to {placed.headers.get('Location')}"
    test_page = guest.get(url + placed.headers["Location"], timeout=timeout)
    # "Approve", the page's first form: it posts the signed event to the webhook path.
    done = guest.post(url + "/payments/stripe/webhook/", timeout=timeout, allow_redirects=False, data={
        name: html.unescape(form_value(test_page.text, name)) for name in ("payload", "signature", "session")})
    match = re.search(r"/checkout/confirmation/([^/]+)/$", done.headers.get("Location", ""))
    assert done.status_code == 302 and match, f"approve payment: {done.status_code} to {done.headers.get('Location')}"
    confirmation = guest.get(url + done.headers["Location"], timeout=timeout)
    assert confirmation.status_code == 200 and match.group(1) in confirmation.text, "confirmation page"
    return Purchase(match.group(1), placing_from, placing_to)
