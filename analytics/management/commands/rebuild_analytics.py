"""python manage.py rebuild_analytics [--from YYYY-MM-DD] [--to YYYY-MM-DD]"""
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.rollups import rebuild


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = "Recompute the daily analytics rollups for a range of days (default: all history up to today)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="First day, YYYY-MM-DD (default: the first day with data).")
        parser.add_argument("--to", dest="end", help="Last day, YYYY-MM-DD, inclusive (default: today).")

    def handle(self, *args, start=None, end=None, **options):
        started = time.monotonic()
        try:
            result = rebuild(start=_day(start) if start else None, end=_day(end) if end else None)
        except ValueError as error:
            raise CommandError(str(error)) from error
        if result.start is None:
            self.stdout.write("Nothing to roll up: no orders and no events yet.")
            return
        rows = ", ".join(f"{name} {count}" for name, count in result.rows.items())
        self.stdout.write(self.style.SUCCESS(
            f"Rebuilt {result.start} to {result.end} in {time.monotonic() - started:.1f} s: {rows}."))
