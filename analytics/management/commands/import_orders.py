"""python manage.py import_orders ../shared/data/online-retail/online_retail.csv.gz"""
import time

from django.core.management.base import BaseCommand, CommandError

from analytics import rollups
from analytics.importer import PROVIDER, OrderImportError, import_orders
from analytics.publish import publish_products
from orders.models import Order


class Command(BaseCommand):
    help = "Import the UCI Online Retail order history (CSV or .csv.gz) as customers, products and orders."

    def add_arguments(self, parser):
        parser.add_argument("path", help="online_retail.csv.gz (columns as in ../shared/data/README.md)")
        parser.add_argument("--currency", default="GBP", help="ISO 4217 currency of UnitPrice (default GBP).")
        parser.add_argument("--timezone", default="Europe/London",
                            help="Time zone of the file's wall-clock InvoiceDate (default Europe/London).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")
        parser.add_argument("--once", action="store_true",
                            help="Do nothing when an order history was imported before (make demo uses this).")
        parser.add_argument("--publish-stock", type=int, metavar="N",
                            help="Then put the imported products on sale, N units each (analytics.publish; make demo "
                                 "uses it so that their recommendations can be seen).")
        parser.add_argument("--rebuild", action="store_true",
                            help="Then recompute the analytics rollups for the imported days.")

    def handle(self, *args, path, currency, timezone, no_progress, once, rebuild, publish_stock, **options):
        started = time.monotonic()
        if once and Order.objects.filter(payment_provider=PROVIDER).exists():
            self.stdout.write("An order history is already imported: nothing to do (--once).")
            return
        try:
            summary = import_orders(path, currency=currency.upper(), timezone=timezone, progress=not no_progress)
        except OrderImportError as error:
            raise CommandError(str(error)) from error
        for line in summary.report():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Imported in {time.monotonic() - started:.1f} s."))
        if publish_stock is not None:
            try:
                published = publish_products(stock=publish_stock)
            except ValueError as error:
                raise CommandError(f"--publish-stock: {error}") from error
            self.stdout.write(self.style.SUCCESS(f"{published} products put on sale, {publish_stock} units each."))
        if rebuild and summary.first_day:
            result = rollups.rebuild(start=summary.first_day, end=summary.last_day)
            self.stdout.write(self.style.SUCCESS(f"Analytics rebuilt for {result.start} to {result.end}."))
