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
