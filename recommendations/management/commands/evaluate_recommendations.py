"""`python manage.py evaluate_recommendations [PATH]`: the offline evaluation of issue 27 on the
UCI Online Retail file (recommendations.evaluation: the protocol, the metrics and their sources),
printed as a Markdown table."""
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recommendations.evaluation import K, evaluate

DEFAULT = Path(settings.BASE_DIR).parent / "shared" / "data" / "online-retail" / "online_retail.csv.gz"


class Command(BaseCommand):
    help = "Evaluate the recommendation algorithms offline (train before 2011-10-01, test after) on Online Retail."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT), help=f"online_retail.csv.gz (default {DEFAULT})")

    def handle(self, *args, path, **options):
        if not Path(path).is_file():
            raise CommandError(f"No file at {path}: give the Online Retail CSV (.csv.gz).")
        started = time.monotonic()
        result = evaluate(path)
        table = result["table"]
        base = table["popular"]["ndcg"] or 1e-9
        self.stdout.write(f"{result['customers']} test customers, {result['products']} products in training; "
                          f"hybrid also-bought weight {result['hybrid_weight']} (chosen on validation)\n")
        self.stdout.write(f"| algorithm | precision@{K} | recall@{K} | hit rate@{K} | nDCG@{K} | coverage | "
                          "nDCG vs popular |")
        self.stdout.write("|---|---|---|---|---|---|---|")
        for name, row in table.items():
            self.stdout.write(f"| {name} | {row['precision']:.4f} | {row['recall']:.4f} | {row['hit_rate']:.3f} | "
                              f"{row['ndcg']:.4f} | {row['coverage']:.3f} | {row['ndcg'] / base:.2f}x |")
        self.stdout.write(f"\n{time.monotonic() - started:.1f} s")
