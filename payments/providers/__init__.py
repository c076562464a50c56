"""Payment providers behind one interface (issue 25):

    create_payment(payment, *, return_url, cancel_url)  asks the provider for a payment (no DB transaction)
    handle_webhook(request)                            verifies a webhook request and returns its event
    refund(payment, amount, *, idempotency_key)        refunds `amount` (Decimal) and returns the refund id
    charge_fee(payment)                                the provider's fee on a payment (when reports_fees)
    reconcile(since)                                   the provider's recent payments, as events to apply

`stripe` is used when settings.STRIPE_SECRET_KEY is set; otherwise `test`, the embedded default for
`make run`, whose own page approves or declines a payment by posting a signed event to the webhook.
Both speak Stripe's event JSON, so one set of services (payments.services) applies them.
"""
from typing import Protocol

from django.conf import settings


class ProviderError(Exception):
    """The provider could not be reached or refused the request. The message is safe to show."""


class Provider(Protocol):
    """What the shop needs from a payment provider."""

    code: str
    reports_fees: bool  # charge_fee() can tell the provider's fee on a payment


    def create_payment(self, payment, *, return_url: str, cancel_url: str) -> dict:
        """Create the provider's side of `payment` (a Payment, status creating) with
        payment.idempotency_key(); returns the Payment fields to store (intent_id, session_id,
        client_secret, redirect_url). Raises ProviderError."""

    def handle_webhook(self, request) -> dict:
        """The verified event of a webhook `request` (Stripe's event JSON). Raises
        ValueError for a bad body or signature."""

    def refund(self, payment, amount, *, idempotency_key: str) -> str:
        """Refund `amount` (Decimal, > 0) of `payment`; returns the provider's refund id.
        Raises ProviderError."""

    def charge_fee(self, payment):
        """(the provider's id of the fee, fee as Decimal in payment.currency) of succeeded
        `payment`, or None when not known (yet). Only when reports_fees. Raises ProviderError."""

    def reconcile(self, since) -> list[dict]:
        """Events (Stripe's JSON) describing the current state of payments created since
        `since` (a datetime), for payments.services.apply_event to apply."""


def active_code() -> str:
    """The provider new payments use: "stripe" when STRIPE_SECRET_KEY is set, else "test" when
    SHOP_TEST_PAYMENTS allows it (default: with DEBUG), else "" (no payments)."""
    if settings.STRIPE_SECRET_KEY:
        return "stripe"
    return "test" if settings.SHOP_TEST_PAYMENTS else ""


def get_provider(code: str | None = None) -> Provider:
    """The provider registered under `code` (default: active_code()). Raises KeyError (also when
    no provider is active)."""
    from .stripe import StripeProvider
    from .test import TestProvider

    return {"stripe": StripeProvider, "test": TestProvider}[code or active_code()]()
