"""Payment providers behind one small interface, so that a real gateway can plug in later.

A provider charges an amount in a currency and returns a reference, or raises PaymentDeclined.
The built-in `dummy` provider approves every card number except the declining test number
4000 0000 0000 0002 (the number Stripe's test mode uses for a generic decline).
"""
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class PaymentDeclined(Exception):
    """The provider refused the charge. The message is safe to show to the shopper."""


@dataclass(frozen=True)
class PaymentResult:
    """A successful charge: the provider's reference for it."""

    reference: str


class PaymentProvider(Protocol):
    """What checkout needs from a payment gateway."""

    code: str
    name: str

    def charge(self, *, amount: Decimal, currency: str, card_number: str, idempotency_key: str) -> PaymentResult:
        """Charge `amount` (Decimal, > 0) in `currency` (ISO 4217). Raises PaymentDeclined.

        `idempotency_key` must make a retried call return the first call's result, not charge twice.
        """
        ...


class DummyProvider:
    """Approves any plausible card number except 4000 0000 0000 0002. Moves no money."""

    code = "dummy"
    name = "Test card (no real payment)"
    DECLINING_CARD = "4000000000000002"

    def charge(self, *, amount: Decimal, currency: str, card_number: str, idempotency_key: str) -> PaymentResult:
        digits = "".join(ch for ch in card_number if ch.isdigit())
        if digits == self.DECLINING_CARD:
            raise PaymentDeclined("Your card was declined. Try another card.")
        return PaymentResult(reference=f"dummy_{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex[:16]}")


PROVIDERS: dict[str, PaymentProvider] = {DummyProvider.code: DummyProvider()}


def get_provider(code: str) -> PaymentProvider:
    """The provider registered under `code`. Raises KeyError for an unknown code."""
    return PROVIDERS[code]
