"""Stripe through stripe-python's StripeClient: Checkout Sessions for the storefront,
PaymentIntents for API clients, refunds and reconciliation. settings.STRIPE_API_BASE points it
elsewhere (the test suite's fake Stripe)."""
from datetime import datetime
from decimal import Decimal

import stripe
from django.conf import settings

from ..money import from_minor, to_minor
from . import ProviderError


def client() -> stripe.StripeClient:
    """A StripeClient for settings.STRIPE_SECRET_KEY at settings.STRIPE_API_BASE, with a timeout of
    settings.STRIPE_TIMEOUT seconds and stripe-python's own network retries switched off (a retry is
    the shopper's, with a new idempotency key)."""
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE},
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT), max_network_retries=0)


def _metadata(payment) -> dict:
    return {"order_number": payment.order.number, "payment_id": str(payment.pk)}


def verify_event(body: bytes, signature: str, secret: str) -> dict:
    """The event in a webhook `body` signed (Stripe-Signature: t=..., v1=HMAC-SHA256) with `secret`;
    raises ValueError when the signature is missing, wrong or older than 5 minutes."""
    try:
        event = stripe.Webhook.construct_event(body, signature, secret)
    except stripe.SignatureVerificationError as error:
        raise ValueError(f"Bad signature: {error.user_message or error}") from error
    return event.to_dict()


def fee_of(charge, currency: str) -> tuple[str, Decimal] | None:
    """(balance transaction id, fee as a Decimal in `currency`) of a Stripe charge whose
    balance_transaction is expanded; None when it is not (or not yet) known, or when Stripe
    settled it in another currency (the ledger keeps the payment's currency only)."""
    balance = charge.get("balance_transaction") if isinstance(charge, dict) else None
    if not isinstance(balance, dict) or str(balance.get("currency", "")).upper() != currency.upper():
        return None
    return balance["id"], from_minor(balance.get("fee") or 0, currency)


class StripeProvider:
    """Real payments with Stripe (test or live mode, by the key)."""

    code = "stripe"
    reports_fees = True

    def create_payment(self, payment, *, return_url: str, cancel_url: str) -> dict:
        """See payments.providers.Provider."""
        amount, currency = to_minor(payment.amount, payment.currency), payment.currency.lower()
        options = {"idempotency_key": payment.idempotency_key()}
        try:
            if payment.flow == "checkout":
                session = client().v1.checkout.sessions.create({
                    "mode": "payment", "success_url": return_url, "cancel_url": cancel_url,
                    "client_reference_id": payment.order.number, "customer_email": payment.order.email,
                    # Stripe accepts 30 minutes to 24 hours; an order expiring sooner refunds a late payment.
                    "expires_at": int(datetime.now().timestamp()) + min(max(settings.SHOP_PAYMENT_TIMEOUT, 1800),
                                                                        86400),
                    "line_items": [{"quantity": 1, "price_data": {
                        "currency": currency, "unit_amount": amount,
                        "product_data": {"name": f"Order {payment.order.number}"}}}],
                    "metadata": _metadata(payment), "payment_intent_data": {"metadata": _metadata(payment)},
                }, options)
                return {"session_id": session.id, "redirect_url": session.url,
                        "intent_id": getattr(session, "payment_intent", None) or None}
            intent = client().v1.payment_intents.create({
                "amount": amount, "currency": currency, "metadata": _metadata(payment),
                "automatic_payment_methods": {"enabled": True}}, options)
            return {"intent_id": intent.id, "client_secret": intent.client_secret}
        except stripe.StripeError as error:
            raise ProviderError(error.user_message or "The payment service is not answering.") from error

    def handle_webhook(self, request) -> dict:
        """See payments.providers.Provider (secret: settings.STRIPE_WEBHOOK_SECRET)."""
        return verify_event(request.body, request.headers.get("Stripe-Signature", ""), settings.STRIPE_WEBHOOK_SECRET)

    def refund(self, payment, amount, *, idempotency_key: str) -> str:
        """See payments.providers.Provider."""
        try:
            refund = client().v1.refunds.create(
                {"payment_intent": payment.intent_id, "amount": to_minor(amount, payment.currency),
                 "metadata": _metadata(payment)}, {"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            raise ProviderError(error.user_message or "The refund could not be made.") from error
        return refund.id

    def charge_fee(self, payment) -> tuple[str, Decimal] | None:
        """Stripe's fee on the charge of succeeded `payment`: its PaymentIntent with
        latest_charge.balance_transaction expanded (fee_of). Raises ProviderError."""
        try:
            intent = client().v1.payment_intents.retrieve(
                payment.intent_id, {"expand": ["latest_charge.balance_transaction"]})
        except stripe.StripeError as error:
            raise ProviderError(error.user_message or "The payment service is not answering.") from error
        return fee_of(intent.to_dict().get("latest_charge"), payment.currency)

    def reconcile(self, since) -> list[dict]:
        """One synthetic event per PaymentIntent created since `since`: payment_intent.succeeded
        (or .payment_failed) with the state Stripe has now (its charge and fee expanded: a fee
        missing from the ledger is filled in), and charge.refunded for its charge when
        anything was refunded. Event ids start with "reconcile:" and name the state, so a state
        already applied is not applied again."""
        events = []
        intents = client().v1.payment_intents.list(
            {"created": {"gte": int(since.timestamp())}, "limit": 100, "expand": ["data.latest_charge.balance_transaction"]})
        for intent in intents.auto_paging_iter():
            intent = intent.to_dict()
            kind = {"succeeded": "payment_intent.succeeded", "canceled": "payment_intent.payment_failed"}.get(
                intent["status"])
            if kind:
                events.append({"id": f"reconcile:{intent['id']}:{intent['status']}", "type": kind,
                               "data": {"object": intent}})
            charge = intent.get("latest_charge")
            if isinstance(charge, dict) and charge.get("amount_refunded"):
                events.append({"id": f"reconcile:{charge['id']}:refunded:{charge['amount_refunded']}",
                               "type": "charge.refunded", "data": {"object": charge}})
        return events
