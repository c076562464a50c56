"""GIN indexes for product search, on PostgreSQL only (SQLite uses a plain substring match)."""
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from catalog.search import product_search_vector

INDEXES = [
    GinIndex(product_search_vector(), name="product_search_vector_gin"),
    GinIndex(OpClass("name", name="gin_trgm_ops"), name="product_name_trgm_gin"),
]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    product = apps.get_model("catalog", "Product")
    for index in INDEXES:
        schema_editor.add_index(product, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    product = apps.get_model("catalog", "Product")
    for index in INDEXES:
        schema_editor.remove_index(product, index)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        TrigramExtension(),  # a no-op on databases other than PostgreSQL
        migrations.RunPython(add_indexes, remove_indexes),
    ]
