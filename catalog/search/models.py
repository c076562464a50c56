"""The stored search document of each product (catalog.search.documents keeps it current)."""
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class SearchDocument(models.Model):
    """A product's words as catalog.search.text cuts them, one text per weight: `name_text`
    (ranked first), `keywords` (SKUs, colours, sizes, categories, attribute values) and `body`
    (descriptions). On PostgreSQL `vector` holds the same words as a tsvector (weights A, B and D,
    'simple' configuration) behind a GIN index (migration 0006); elsewhere it stays NULL and the
    texts are matched with LIKE."""

    product = models.OneToOneField("catalog.Product", primary_key=True, related_name="search_document",
                                   on_delete=models.CASCADE)
    name_text = models.TextField(blank=True)
    keywords = models.TextField(blank=True)
    body = models.TextField(blank=True)
    vector = SearchVectorField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        app_label = "catalog"

    def __str__(self) -> str:
        return f"search document of product {self.product_id}"
