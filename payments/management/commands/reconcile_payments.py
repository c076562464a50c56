"""manage.py reconcile_payments --since 48h: fix orders whose webhook was lost, printing each change."""
import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments import services

UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str) -> timedelta:
    """"48h", "90m" or "2d" as a timedelta. Raises ValueError."""
    match = re.fullmatch(r"(\d+)([mhd])", text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 48h, 90m or 2d")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


class Command(BaseCommand):
    help = "Compare recent payments at the provider with the shop's and apply lost webhooks."

    def add_arguments(self, parser):
        parser.add_argument("--since", default="48h", help="How far back: 48h (default), 90m, 2d.")

    def handle(self, *args, since, **options):
        try:
            window = parse_since(since)
        except ValueError as error:
            raise CommandError(str(error)) from error
        changes = services.reconcile(since=timezone.now() - window)
        for line in changes:
            self.stdout.write(line)
        self.stdout.write(f"{len(changes)} change(s).")
