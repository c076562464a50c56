"""Product search: PostgreSQL full-text search with ranking plus trigram similarity for typos;
a plain substring match on other databases (the SQLite laptop default).

The GIN indexes that make this fast are created by migration 0002 on PostgreSQL only; the
expressions below must stay identical to the indexed ones.
"""
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet
from django.db.models.functions import Cast

from .models import Product

SEARCH_CONFIG = "english"
# word_similarity threshold for a typo match ("hoddie" ~ "Hoodie" scores 0.5); pg_trgm's default is 0.6.
TYPO_SIMILARITY = 0.4


def product_search_vector() -> SearchVector:
    """Name (weight A) and description (weight B) as one tsvector. HTML tags are ignored by
    PostgreSQL's parser, so the sanitised description can be indexed as it is."""
    return SearchVector("name", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "description", weight="B", config=SEARCH_CONFIG
    )


def search_products(queryset: QuerySet[Product], text: str) -> QuerySet[Product]:
    """Filter `queryset` to products matching `text`, best match first.

    On PostgreSQL: websearch syntax ("hoodie -zip"), ranked by ts_rank plus the name's trigram word
    similarity, so that misspellings still find products. Elsewhere: every word must appear in the
    name, description or SKU; ordered by name. An empty `text` matches nothing.
    """
    text = text.strip()
    if not text:
        return queryset.none()
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        return (
            queryset.annotate(
                search=product_search_vector(),
                # As double precision: a keyset cursor (catalog.pagination) carries the values through
                # Python floats, which round-trip float8 exactly but not PostgreSQL's float4 (real).
                rank=Cast(SearchRank(product_search_vector(), query), FloatField()),
                similarity=Cast(TrigramWordSimilarity(text, "name"), FloatField()),
            )
            .filter(Q(search=query) | Q(similarity__gte=TYPO_SIMILARITY))
            .order_by(F("rank").desc(), F("similarity").desc(), "name", "pk")
        )
    for word in text.split():
        queryset = queryset.filter(Q(name__icontains=word) | Q(description__icontains=word) | Q(sku__iexact=word))
    return queryset.order_by("name", "pk")
