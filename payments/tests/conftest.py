"""Fixtures of the payments tests: a fake Stripe on 127.0.0.1 with stripe-python pointed at it."""
import pytest

from accounts.tests.conftest import emails_run_here  # noqa: F401 - outbox jobs run here, after commit

from .fake_stripe import FakeStripe

WEBHOOK_SECRET = "whsec_test_fake_stripe_secret"


@pytest.fixture(scope="session")
def _fake_stripe_server():
    fake = FakeStripe(WEBHOOK_SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_stripe(_fake_stripe_server, settings):
    """The fake Stripe, emptied, and settings that make `stripe` the active provider against it."""
    fake = _fake_stripe_server
    fake.intents.clear(), fake.sessions.clear(), fake.refunds.clear(), fake.events.clear()
    fake.replies.clear(), fake.fail_with.clear(), fake.requests.clear()
    fake.delay, fake.webhook_url = 0.0, ""
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.base
    settings.STRIPE_TIMEOUT = 2
    return fake
