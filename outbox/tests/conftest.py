"""Fixtures of the outbox tests: relayed jobs run eagerly in this process (as in the embedded
default), whatever the broker; test_worker.py runs a real worker for its own."""
from accounts.tests.conftest import emails_run_here  # noqa: F401 - autouse here too
