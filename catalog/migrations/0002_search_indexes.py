"""GIN indexes for product search, on PostgreSQL only (SQLite uses a plain substring match)."""
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.contrib.postgres.search import SearchVector
from django.db import migrations

# The search vector of the time (catalog.search has since moved to stored documents, migration 0006,
# which drops both indexes).
INDEXES = [
    GinIndex(SearchVector("name", weight="A", config="english") + SearchVector("description", weight="B", config="english"),
             name="product_search_vector_gin"),
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
