"""Fixtures of the orders tests: email tasks run in this process when sent (after commit); or a
real Celery worker delivers them to a real SMTP server (aiosmtpd on 127.0.0.1)."""
import os
import subprocess
import sys
import time
import uuid
from functools import partial

import pytest

from catalog.tests.conftest import BASE_DIR, WorkerProcess, _database_url, _free_port


@pytest.fixture(autouse=True)
def emails_run_here():
    """Celery tasks sent by these tests run eagerly in this process (as in the embedded default),
    whatever the broker, so their emails land in `mail.outbox`. Still only after commit: tests
    use `django_capture_on_commit_callbacks(execute=True)`. The real-worker test (SMTP sink)
    undoes this for its own tasks."""
    from shop.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


# --- A real worker delivering to a real SMTP server ------------------------------------------------

EMAIL_TASKS = ["orders.tasks.send_order_email", "accounts.tasks.send_verification_email",
               "accounts.tasks.send_password_reset_email", "accounts.tasks.send_back_in_stock_email"]


class SmtpSink:
    """An aiosmtpd SMTP server on 127.0.0.1 that keeps every message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.port = _free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def smtp_sink():
    sink = SmtpSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


@pytest.fixture(scope="module")
def _email_worker(django_db_setup, smtp_sink, tmp_path_factory):
    """`celery -A shop worker` on the test database and the real Redis, with EMAIL_URL pointing
    at the SMTP sink, consuming a queue of its own. Needs REDIS_URL (make test and CI set it)."""
    from django.conf import settings as django_settings
    from django.db import connection

    if not django_settings.REDIS_URL:
        message = "a real Celery worker needs Redis: set REDIS_URL (make test and CI do)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    queue = f"test-emails-{uuid.uuid4().hex[:10]}"
    log_path = tmp_path_factory.mktemp("email-worker") / f"{queue}.log"
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "REDIS_URL": django_settings.REDIS_URL,
           "CELERY_TASK_ALWAYS_EAGER": "false", "EMAIL_URL": f"smtp://127.0.0.1:{smtp_sink.port}"}
    command = [sys.executable, "-m", "celery", "-A", "shop", "worker", "--queues", queue, "--hostname", f"{queue}@%h",
               "--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = WorkerProcess(process=process, queue=queue, media_root=log_path.parent, log_path=log_path)
    deadline = time.monotonic() + 60
    while " ready." not in worker.log():
        assert process.poll() is None, f"the Celery worker exited:\n{worker.log()}"
        assert time.monotonic() < deadline, f"the Celery worker did not start in 60 s:\n{worker.log()}"
        time.sleep(0.2)
    yield worker
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    import redis

    with redis.Redis.from_url(django_settings.REDIS_URL) as client:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture
def email_worker(_email_worker, emails_run_here, transactional_db, monkeypatch):
    """The real worker for one `transaction=True` test: the email tasks this process sends go to
    its queue through the broker (not eagerly)."""
    from celery.utils.imports import symbol_by_name

    from shop.celery import app

    app.conf.task_always_eager = False  # emails_run_here puts it back afterwards
    for path in EMAIL_TASKS:
        task = symbol_by_name(path)
        monkeypatch.setattr(task, "apply_async", partial(task.apply_async, queue=_email_worker.queue))
    return _email_worker
