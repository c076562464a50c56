"""`manage.py import_reviews reviews.csv`: attach customer reviews to imported products."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.importers import ImportFileError, import_reviews


class Command(BaseCommand):
    help = (
        "Import reviews (sku,rating_code,rating_value,title,review,reviewer,email) as approved reviews "
        "and refresh the products' ratings. Re-running updates reviews in place."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv_path", type=Path, help="The reviews CSV file.")

    def handle(self, *args, csv_path: Path, **options) -> None:
        try:
            report = import_reviews(csv_path=csv_path)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        counts = report.reviews
        self.stdout.write(f"reviews:     {counts.created} created, {counts.updated} updated, {counts.skipped} skipped")
        self.stdout.write(f"errors:      {len(report.errors)}")
        for line, message in report.errors:
            self.stdout.write(f"line {line}: {message}")
        if not report.imported_anything:
            raise CommandError(f"Nothing could be imported from {csv_path}.")
