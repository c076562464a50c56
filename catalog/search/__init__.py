"""Product search (issue 23): stored search documents per product (`models`, kept current by
`documents`), typo correction over the catalogue's vocabulary (`vocabulary`, rapidfuzz), and the
search itself with its relevance order (`query`). Words are cut by one rule (`text`).
"""
from .documents import refresh_search_documents
from .query import ParsedQuery, parse_query, search_products

__all__ = ["ParsedQuery", "parse_query", "refresh_search_documents", "search_products"]
