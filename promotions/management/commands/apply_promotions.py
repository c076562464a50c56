"""`python manage.py apply_promotions`: write the running catalogue promotions onto the variants
now (what beat does every PROMOTIONS_REFRESH_SECONDS), e.g. from cron on a shop without a worker."""
from django.core.management.base import BaseCommand

from promotions.sales import apply_promotions


class Command(BaseCommand):
    help = "Apply the running catalogue promotions to the variants' prices now."

    def handle(self, *args, **options):
        changed = apply_promotions()
        self.stdout.write(f"{changed} variant price(s) changed.")
