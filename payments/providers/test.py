"""The embedded default provider for `make run` and the test suite: no money moves. Its own page
(payments.views.test_page) has "Approve" and "Decline" buttons that post a Stripe-shaped event,
signed with Stripe's scheme, to the webhook. It asks for no card number."""
import hashlib
import hmac
import json
import secrets
import time

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

from .stripe import verify_event


def webhook_secret() -> str:
    """STRIPE_WEBHOOK_SECRET, or a secret derived from SECRET_KEY when it is not set."""
    return settings.STRIPE_WEBHOOK_SECRET or "whsec_" + salted_hmac("payments.test-provider", "webhook").hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for `body`: "t=<unix time>,v1=<hex HMAC-SHA256 of 't.body'>"
    (Stripe's documented scheme, docs.stripe.com/webhooks#verify-manually)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class TestProvider:
    """Approves or declines from its own page; refunds always succeed."""

    code = "test"

    def create_payment(self, payment, *, return_url: str, cancel_url: str) -> dict:
        """See payments.providers.Provider: local ids, and the test page as the hosted page."""
        token = secrets.token_hex(8)
        intent_id = f"pi_test_{payment.pk}_{token}"
        if payment.flow == "checkout":
            session_id = f"cs_test_{payment.pk}_{token}"
            return {"session_id": session_id, "intent_id": intent_id,
                    "redirect_url": reverse("payments:test_page", args=[session_id])}
        return {"intent_id": intent_id, "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}"}

    def handle_webhook(self, request) -> dict:
        """See payments.providers.Provider (secret: webhook_secret())."""
        return verify_event(request.body, request.headers.get("Stripe-Signature", ""), webhook_secret())

    def refund(self, payment, amount, *, idempotency_key: str) -> str:
        """See payments.providers.Provider: a refund id derived from the key (a replay gets the same)."""
        return "re_test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]

    def reconcile(self, since) -> list[dict]:
        """Nothing: the test provider keeps no state of its own."""
        return []


def signed_event(event_type: str, obj: dict) -> tuple[bytes, str]:
    """A webhook body for a new event of `event_type` about `obj`, and its Stripe-Signature header."""
    body = json.dumps({"id": f"evt_test_{secrets.token_hex(12)}", "object": "event", "type": event_type,
                       "created": int(time.time()), "data": {"object": obj}}).encode()
    return body, sign(body, webhook_secret())
