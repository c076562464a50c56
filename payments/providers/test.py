"""The embedded default provider for `make run` and the test suite: no money moves. Its own page
(payments.views.test_page) has "Approve" and "Decline" buttons that post a Stripe-shaped event,
signed with Stripe's scheme, to the webhook path (/payments/stripe/webhook/), through HTTP from the
shopper's browser. It asks for no card number."""
import hashlib
import hmac
import json
import secrets
import time

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

from ..money import to_minor
from .stripe import verify_event

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def webhook_secret() -> str:
    """The test provider's signing secret: settings.STRIPE_WEBHOOK_SECRET, or one derived from
    SECRET_KEY when it is not set (the embedded default needs no set-up)."""
    return settings.STRIPE_WEBHOOK_SECRET or "whsec_" + salted_hmac("payments.test-provider", "webhook").hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for `body`: "t=<unix time>,v1=<hex HMAC-SHA256 of 't.body'>"
    (Stripe's documented scheme, docs.stripe.com/webhooks#verify-manually)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signed_event(event_type: str, obj: dict) -> tuple[bytes, str]:
    """A webhook body (JSON, ASCII only) for a new event of `event_type` about `obj`, and its
    Stripe-Signature header made with webhook_secret()."""
    body = json.dumps({"id": f"evt_test_{secrets.token_hex(12)}", "object": "event", "type": event_type,
                       "created": int(time.time()), "data": {"object": obj}}).encode()
    return body, sign(body, webhook_secret())


class TestProvider:
    """Approves or declines from its own page; refunds always succeed; no fees."""

    code = "test"
    reports_fees = False

    def create_payment(self, payment, *, return_url: str, cancel_url: str) -> dict:
        """See payments.providers.Provider: local ids, and the test page as the hosted page."""
        token = secrets.token_hex(8)
        intent_id = f"pi_test_{payment.pk}_{token}"
        if payment.flow == "checkout":
            session_id = f"cs_test_{payment.pk}_{token}"
            return {"session_id": session_id, "intent_id": intent_id,
                    "redirect_url": reverse("payments:test_page", args=[session_id])}
        return {"intent_id": intent_id, "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}"}

    def page_events(self, payment) -> dict[str, dict[str, str]]:
        """The two signed events of the test page of `payment` (a checkout Payment), as the hidden
        fields of its two forms: {"approve" | "decline": {"payload": JSON text, "signature":
        Stripe-Signature value}}. Approve is checkout.session.completed (paid), Decline is
        payment_intent.payment_failed. Signatures are valid for 5 minutes (Stripe's tolerance)."""
        metadata = {"order_number": payment.order.number, "payment_id": str(payment.pk)}
        approve = signed_event("checkout.session.completed", {
            "id": payment.session_id, "object": "checkout.session", "payment_status": "paid", "metadata": metadata,
            "payment_intent": payment.intent_id, "amount_total": to_minor(payment.amount, payment.currency)})
        decline = signed_event("payment_intent.payment_failed", {
            "id": payment.intent_id, "object": "payment_intent", "metadata": metadata,
            "last_payment_error": {"message": "Your card was declined (test provider)."}})
        return {name: {"payload": body.decode(), "signature": signature}
                for name, (body, signature) in {"approve": approve, "decline": decline}.items()}

    def handle_webhook(self, request) -> dict:
        """See payments.providers.Provider (secret: webhook_secret()). Besides Stripe's own transport
        (the JSON body, the Stripe-Signature header), it takes its page's form post: the same
        signed JSON in the field "payload" and its signature in "signature"."""
        if request.content_type == FORM_CONTENT_TYPE:
            body, signature = request.POST.get("payload", "").encode(), request.POST.get("signature", "")
        else:
            body, signature = request.body, request.headers.get("Stripe-Signature", "")
        return verify_event(body, signature, webhook_secret())

    def refund(self, payment, amount, *, idempotency_key: str) -> str:
        """See payments.providers.Provider: a refund id derived from the key (a replay gets the same)."""
        return "re_test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]

    def reconcile(self, since) -> list[dict]:
        """Nothing: the test provider keeps no state of its own."""
        return []
