"""The recommendation algorithms, pure functions over ids and texts (no database): tests and the
offline evaluation call them directly, recommendations.services feeds them from the shop.

- `similar`: content similarity. TF-IDF over each product's text (name weighted up, description,
  attributes, category names) with sublinear term frequency and English stop words removed, and
  cosine similarity between products (scikit-learn's TfidfVectorizer; Manning, Raghavan & Schütze,
  "Introduction to Information Retrieval", ch. 6). Serves products with no orders (cold start).
- `also_bought`: bought by the same customers. Item-to-item cosine similarity over customers
  (Linden, Smith & York, "Amazon.com recommendations: item-to-item collaborative filtering", IEEE
  Internet Computing 2003; Deshpande & Karypis, ACM TOIS 2004), with a minimum support so that
  pairs seen once are not recommended; the cosine divides by both products' popularity, so a
  bestseller bought by everyone is not recommended everywhere. On the Online Retail history it
  beats lift over baskets by 2.4x in nDCG@10 (benchmarks/README.md, recommendations).

Each returns {product id: [(other id, score), ...]} best first, at most `top` per product.
"""
from collections.abc import Iterable, Mapping

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

ROWS_PER_BLOCK = 512  # products whose similarities are computed at once (memory: block x catalogue floats)


def _top(row: np.ndarray, top: int, exclude: int) -> list[tuple[int, float]]:
    """(column, value) of the `top` largest positive values of a dense row, best first, without `exclude`."""
    row = row.copy()
    row[exclude] = 0
    count = min(top, int((row > 0).sum()))
    if not count:
        return []
    best = np.argpartition(-row, count - 1)[:count]
    best = best[np.argsort(-row[best], kind="stable")]
    return [(int(column), float(row[column])) for column in best]


def similar(texts: Mapping[int, str], *, top: int = 10, min_score: float = 0.05,
            groups: Mapping[int, Iterable[str]] | None = None,
            other_group_factor: float = 0.5) -> dict[int, list[tuple[int, float]]]:
    """{product id: [(similar product id, cosine similarity), ...]} from each product's `texts`,
    best first, at most `top`, only scores of at least `min_score`. With `groups` (each product's
    departments, e.g. its top-level categories), a product sharing none with another has its
    similarity multiplied by `other_group_factor`: a men's jacket is more like a men's shell than
    a women's jacket worded the same way. Products whose text has no usable word get nothing."""
    ids = list(texts)
    if len(ids) < 2:
        return {}
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=1, max_df=0.8,
                                 token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    try:
        matrix = vectorizer.fit_transform(texts[pk] for pk in ids)  # rows are L2-normalised
    except ValueError:  # no word at all
        return {}
    membership = _membership(ids, groups) if groups else None
    result: dict[int, list[tuple[int, float]]] = {}
    for start in range(0, len(ids), ROWS_PER_BLOCK):
        block = (matrix[start:start + ROWS_PER_BLOCK] @ matrix.T).toarray()
        if membership is not None:
            shared = (membership[start:start + ROWS_PER_BLOCK] @ membership.T).toarray() > 0
            block[~shared] *= other_group_factor
        for offset, row in enumerate(block):
            index = start + offset
            picks = [(ids[column], score) for column, score in _top(row, top, index) if score >= min_score]
            if picks:
                result[ids[index]] = picks
    return result


def _membership(ids: list[int], groups: Mapping[int, Iterable[str]]) -> sparse.csr_matrix:
    """A products x groups 0/1 matrix, in the order of `ids`."""
    names: dict[str, int] = {}
    rows, columns = [], []
    for row, pk in enumerate(ids):
        for group in set(groups.get(pk, ())):
            rows.append(row)
            columns.append(names.setdefault(group, len(names)))
    return sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)),
                             shape=(len(ids), max(len(names), 1)))


def also_bought(histories: Iterable[Iterable[int]], *, top: int = 10, min_support: int = 3,
                only: Iterable[int] | None = None,
                buyers: Mapping[int, int] | None = None) -> dict[int, list[tuple[int, float, int]]]:
    """{product id: [(other product id, cosine, customers with both), ...]} from each customer's
    set of products bought: item-to-item cosine similarity over customers (Deshpande & Karypis,
    "Item-based top-N recommendation algorithms", ACM TOIS 2004; Linden, Smith & York, "Amazon.com
    recommendations: item-to-item collaborative filtering", IEEE Internet Computing 2003), only
    pairs bought by at least `min_support` customers, best first, at most `top`.

    Incremental use: with `only` (product ids), just those products' lists, from `histories` that
    hold at least every customer who bought one of them, and `buyers` ({product id: customers who
    bought it}, over every history) for the other products' popularity: the same lists as a run
    over every history."""
    index: dict[int, int] = {}
    rows, columns = [], []
    for row, products in enumerate(histories):
        for pk in set(products):
            rows.append(row)
            columns.append(index.setdefault(pk, len(index)))
    if not rows:
        return {}
    ids = np.empty(len(index), dtype=np.int64)
    for pk, column in index.items():
        ids[column] = pk
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)),
                               shape=(max(rows) + 1, len(index)))
    norms = np.sqrt(np.asarray(matrix.sum(axis=0), dtype=np.float64).ravel() if buyers is None else
                    np.array([buyers.get(int(pk), 0) for pk in ids], dtype=np.float64))
    together = (matrix.T @ matrix).tocsr()
    together.setdiag(0)
    together.eliminate_zeros()
    result: dict[int, list[tuple[int, float, int]]] = {}
    columns = range(together.shape[0]) if only is None else [index[pk] for pk in set(only) if pk in index]
    for column in columns:
        start, end = together.indptr[column], together.indptr[column + 1]
        others, both = together.indices[start:end], together.data[start:end]
        keep = both >= min_support
        if not keep.any():
            continue
        others, both = others[keep], both[keep]
        cosine = both / (norms[column] * norms[others])
        order = np.lexsort((ids[others], -both, -cosine))[:top]  # ties: the lower product id first
        result[int(ids[column])] = [(int(ids[others[i]]), float(cosine[i]), int(both[i])) for i in order]
    return result
