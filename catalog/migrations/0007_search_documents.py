"""Stored search documents (catalog.search): the table, a backfill of every product, and on
PostgreSQL a GIN index on the stored tsvector. The old per-query search indexes of 0002 go."""
from importlib import import_module

import django.contrib.postgres.search
import django.db.models.deletion
from django.contrib.postgres.indexes import GinIndex
from django.db import migrations, models

from catalog.search.documents import refresh_search_documents

VECTOR_INDEX = GinIndex(fields=["vector"], name="search_document_vector_gin")


def backfill(apps, schema_editor):
    product, variant, document = (apps.get_model("catalog", name) for name in ("Product", "Variant", "SearchDocument"))
    ids = list(product.objects.values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        refresh_search_documents(product_ids=ids[start:start + 500], models=(product, variant, document))


def add_vector_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("catalog", "SearchDocument"), VECTOR_INDEX)
        schema_editor.execute("DROP INDEX IF EXISTS product_search_vector_gin")
        schema_editor.execute("DROP INDEX IF EXISTS product_name_trgm_gin")


def remove_vector_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("catalog", "SearchDocument"), VECTOR_INDEX)
        import_module("catalog.migrations.0002_search_indexes").add_indexes(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0006_variant_sale_below_price'),
    ]

    operations = [
        migrations.CreateModel(
            name='SearchDocument',
            fields=[
                ('product', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_document', serialize=False, to='catalog.product')),
                ('name_text', models.TextField(blank=True)),
                ('keywords', models.TextField(blank=True)),
                ('body', models.TextField(blank=True)),
                ('vector', django.contrib.postgres.search.SearchVectorField(blank=True, null=True)),
                ('updated_at', models.DateTimeField(auto_now=True, db_index=True)),
            ],
        ),
        migrations.RunPython(add_vector_index, remove_vector_index),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
