"""`manage.py outbox status | relay | retry`: the outbox for operators.

    outbox status            pending, sent and failed messages per kind, and the oldest pending
    outbox relay             hand every pending, due message to the broker now
    outbox retry [--kind K]  put failed messages back in the queue (and relay them)

`relay` fails (exit status 1) when the broker took none of the messages waiting for it.
"""
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from outbox import selectors, services
from outbox.models import Message


class Command(BaseCommand):
    help = "Outbox messages: counts per kind (status), relay pending ones now (relay), retry failed ones (retry)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("status", help="pending, sent and failed messages per kind")
        actions.add_parser("relay", help="hand every pending, due message to the broker now")
        retry = actions.add_parser("retry", help="put failed messages back in the queue")
        retry.add_argument("--kind", help="only messages of this kind")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _status(self, **options) -> None:
        counts = selectors.counts_by_kind()
        width = max([len("kind"), *(len(row.kind) for row in counts)])
        self.stdout.write(f"{'kind':<{width}}  {'pending':>8}  {'sent':>8}  {'failed':>8}  oldest pending")
        now = timezone.now()
        for row in counts:
            age = f"{(now - row.oldest_pending).total_seconds():.0f} s ago" if row.oldest_pending else "-"
            self.stdout.write(f"{row.kind:<{width}}  {row.pending:>8}  {row.sent:>8}  {row.failed:>8}  {age}")
        totals = [sum(getattr(row, name) for row in counts) for name in ("pending", "sent", "failed")]
        self.stdout.write(f"{'total':<{width}}  {totals[0]:>8}  {totals[1]:>8}  {totals[2]:>8}")

    def _relay(self, **options) -> None:
        waiting = Message.objects.due().count()
        relayed = services.relay(stale_after_seconds=0)
        self.stdout.write(f"Relayed {relayed} of {waiting} pending message(s) due now.")
        if waiting and not relayed:
            raise CommandError("The broker took none of them (is Redis up?); they stay pending.")

    def _retry(self, *, kind: str | None = None, **options) -> None:
        count = services.retry_failed(kind=kind)
        self.stdout.write(f"{count} failed message(s) queued again.")
