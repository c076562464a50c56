"""Fixtures of the orders tests: emails (outbox messages) are delivered in this process when
relayed after commit; or a real Celery worker delivers them to a real SMTP server (aiosmtpd on
127.0.0.1)."""
import uuid
from functools import partial

import pytest

from accounts.tests.conftest import emails_run_here  # noqa: F401 - autouse here too
from catalog.tests.conftest import _free_port, running_worker

# --- A real worker delivering to a real SMTP server ------------------------------------------------

EMAIL_TASKS = ["outbox.tasks.deliver"]  # every email is an outbox message


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
    """A real worker (solo pool) on its own queue with EMAIL_URL pointing at the SMTP sink."""
    queue = f"test-emails-{uuid.uuid4().hex[:10]}"
    log_dir = tmp_path_factory.mktemp("email-worker")
    with running_worker(queue=queue, log_path=log_dir / f"{queue}.log", media_root=log_dir,
                        extra_env={"EMAIL_URL": f"smtp://127.0.0.1:{smtp_sink.port}",
                                   "CELERY_TASK_DEFAULT_QUEUE": queue},  # its own outbox relays
                        pool=["--pool", "solo"]) as worker:
        yield worker


@pytest.fixture
def email_worker(_email_worker, emails_run_here, transactional_db, monkeypatch):
    """The real worker for one `transaction=True` test: the outbox jobs this process relays go to
    its queue through the broker (not eagerly)."""
    from celery.utils.imports import symbol_by_name

    from shop.celery import app

    app.conf.task_always_eager = False  # emails_run_here puts it back afterwards
    for path in EMAIL_TASKS:
        task = symbol_by_name(path)
        monkeypatch.setattr(task, "apply_async", partial(task.apply_async, queue=_email_worker.queue))
    return _email_worker
