"""Indexes for keyset pages of the product listings (catalog.pagination, catalog.selectors.SORT_KEYS).

The rating sort's index (rating DESC NULLS LAST, count DESC, id) is PostgreSQL-only: SQLite refuses
NULLS LAST in an index, and the laptop default does not need it.
"""
from django.db import migrations, models

RATING_INDEX = "product_listing_rating"


def add_rating_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {RATING_INDEX} ON catalog_product '
            '(rating_average DESC NULLS LAST, rating_count DESC, id)')


def remove_rating_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {RATING_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0004_review_featured_verified'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='product',
            index=models.Index(fields=['name', 'id'], name='product_listing_name'),
        ),
        migrations.AddIndex(
            model_name='product',
            index=models.Index(fields=['created_at', 'id'], name='product_listing_newest'),
        ),
        migrations.RunPython(add_rating_index, remove_rating_index),
    ]
