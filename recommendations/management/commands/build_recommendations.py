"""`python manage.py build_recommendations`: recompute every product's recommendations now, with a
progress bar, and print what was built and how long it took."""
from django.core.management.base import BaseCommand

from recommendations.models import Recommendation
from recommendations.services import build


class Command(BaseCommand):
    help = "Recompute product recommendations (similar products, customers also bought) from the catalogue and orders."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, cron)")
        parser.add_argument("--if-empty", action="store_true",
                            help="only when none are stored yet (make run; beat rebuilds them nightly)")

    def handle(self, *args, no_progress=False, if_empty=False, **options):
        if if_empty and Recommendation.objects.exists():
            self.stdout.write("Recommendations are already built (beat rebuilds them nightly).")
            return
        report = build(progress=not no_progress)
        self.stdout.write(f"{report.products} products, {report.customers} customers: {report.similar} similar and "
                          f"{report.also_bought} also-bought recommendations in {report.seconds:.1f} s.")
