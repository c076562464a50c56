"""Outbox handlers of the payments app."""
from outbox.registry import handles

from .models import LedgerEntry


@handles("payments.refund")
def refund_entry(*, entry_id: int) -> None:
    """Outbox handler: send pending refund `entry_id` to the provider (a refund the shop owes at
    once: a payment after the order expired with its stock gone, a second payment)."""
    from .services import execute_refund

    entry = LedgerEntry.objects.select_related("payment").filter(pk=entry_id).first()
    if entry is not None and entry.status == LedgerEntry.Status.PENDING:
        execute_refund(entry=entry, give_up=False)  # stays pending (counted) until the provider refunds


@handles("payments.fee")
def record_fee(*, payment_id: int) -> None:
    """Outbox handler: record the provider's fee on succeeded payment `payment_id` in its ledger
    (payments.services.record_fee; a provider error raises, and the outbox retries)."""
    from .models import Payment
    from .services import record_fee as record

    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is not None:
        record(payment=payment)
