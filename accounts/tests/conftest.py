"""Fixtures of the accounts tests: emails (outbox messages) are delivered in this process when
relayed after commit."""
import pytest


@pytest.fixture(autouse=True)
def emails_run_here():
    """Celery tasks sent by these tests run eagerly in this process (as in the embedded default),
    whatever the broker, so the outbox's emails land in `mail.outbox`. Still only after commit:
    tests use `django_capture_on_commit_callbacks(execute=True)`. The real-worker test (SMTP sink)
    undoes this for its own tasks."""
    from shop.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
