"""Catalogue reads for the storefront and the API, each with a fixed number of queries whatever
the page size, all through QuerySet methods and the ORM (no SQL written by hand). One module per
reading area: `cards` (product cards and keyset pages of them), `listing` (facets, counts, the
tree), `product` (the product page and choosing a variant). Prices come from one rule:
catalog.models.selling_price (in the database) and Variant.unit_price (in Python)."""
from .cards import (
    CARD_FIELDS, DEFAULT_SORT, RELEVANCE, RELEVANCE_KEYS, SORT_KEYS, SORTS, ProductCard, load_cards,
    lowest_selling_price, primary_image_prefetch, primary_image_subquery, product_cards, product_cards_page,
    sort_keys, sort_products, with_price_from,
)
from .listing import (
    SIZE_ORDER, Facets, ListingFacts, breadcrumbs, facets_for, matching_variant_exists, shown_price_in,
    size_sort_key, top_level_categories,
)
from .product import (
    REVIEWS_SHOWN, VariantChoiceError, VariantPicker, choose_variant, product_detail, product_page, variant_picker,
)

__all__ = [
    "CARD_FIELDS", "DEFAULT_SORT", "RELEVANCE", "RELEVANCE_KEYS", "REVIEWS_SHOWN", "SIZE_ORDER", "SORT_KEYS", "SORTS",
    "Facets", "ListingFacts", "ProductCard", "VariantChoiceError", "VariantPicker", "breadcrumbs", "choose_variant",
    "facets_for", "load_cards", "lowest_selling_price", "matching_variant_exists", "shown_price_in",
    "primary_image_prefetch", "primary_image_subquery", "product_cards", "product_cards_page", "product_detail",
    "product_page", "size_sort_key", "sort_keys", "sort_products", "top_level_categories",
    "variant_picker", "with_price_from",
]
