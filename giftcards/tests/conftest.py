"""Fixtures of the gift card tests: outbox emails are delivered in this process after commit."""
from accounts.tests.conftest import emails_run_here  # noqa: F401 - autouse here too
