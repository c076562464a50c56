"""`manage.py webhooks status | relay`: the webhook deliveries for operators.

    webhooks status   pending, succeeded and failed deliveries per endpoint, and the oldest pending
    webhooks relay    hand every due delivery (first tries and retries) to the broker now; on the
                      embedded default (eager Celery, no beat) this is what sends retries: run it from cron
"""
from django.core.management.base import BaseCommand, CommandParser

from webhooks import delivery, selectors


class Command(BaseCommand):
    help = "Webhook deliveries: counts per endpoint (status), hand due ones to the broker now (relay)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("status", help="deliveries per endpoint and status")
        actions.add_parser("relay", help="hand every due delivery to the broker now")

    def handle(self, *args, action: str, **options) -> None:
        if action == "relay":
            self.stdout.write(f"{delivery.relay(stale_after_seconds=0)} delivery(ies) handed over")
            return
        for row in selectors.counts_by_endpoint():
            oldest = row.oldest_pending.isoformat() if row.oldest_pending else "-"
            state = "on" if row.active else "off"
            self.stdout.write(f"{row.url} ({state}): pending {row.pending}, succeeded {row.succeeded}, "
                              f"failed {row.failed}, oldest pending {oldest}")
