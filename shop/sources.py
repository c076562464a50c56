"""Where a customer, product or order came from: the live web shop, or an imported history.

One set of choices for the `source` field of accounts.User, catalog.Product and orders.Order, so
that the back office can show the live shop by default and the history behind a filter (issue 24).
"""
from django.db import models


class Source(models.TextChoices):
    """The origin of a record. WEB is everything the shop itself made (checkout, sign-up, the
    catalogue importer); ONLINE_RETAIL the UCI Online Retail history (analytics.importer)."""

    WEB = "web", "Web shop"
    ONLINE_RETAIL = "online-retail", "Online Retail history"


SOURCE_MAX_LENGTH = 20
