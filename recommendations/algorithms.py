"""The recommendation algorithms, pure functions over ids and texts (no database): tests and the
offline evaluation call them directly, recommendations.services feeds them from the shop.

- `similar`: content similarity. TF-IDF over each product's text (name weighted up, description,
  attributes, category names) with sublinear term frequency and English stop words removed, and
  cosine similarity between products (scikit-learn's TfidfVectorizer; Manning, Raghavan & Schütze,
  "Introduction to Information Retrieval", ch. 6). Serves products with no orders (cold start).
- `also_bought`: co-occurrence in the same basket, ranked by lift = P(a and b) / (P(a) P(b))
  (Brin, Motwani, Ullman & Tsur, SIGMOD 1997), kept above 1 and with a minimum support, so that a
  bestseller that sits in every basket by chance, and pairs seen once, are not recommended.

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


def also_bought(baskets: Iterable[Iterable[int]], *, top: int = 10,
                min_support: int = 3) -> dict[int, list[tuple[int, float, int]]]:
    """{product id: [(other product id, lift, baskets with both), ...]} from `baskets` (the
    products of each order), best lift first, at most `top`, only pairs found together in at least
    `min_support` baskets and more often than chance (lift above 1). A basket's repeated products
    count once."""
    index: dict[int, int] = {}
    rows, columns = [], []
    basket_count = 0
    for basket in baskets:
        products = {index.setdefault(pk, len(index)) for pk in basket}
        rows.extend([basket_count] * len(products))
        columns.extend(products)
        basket_count += 1
    if not rows:
        return {}
    ids = np.empty(len(index), dtype=np.int64)
    for pk, column in index.items():
        ids[column] = pk
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)),
                               shape=(basket_count, len(index)))
    counts = np.asarray(matrix.sum(axis=0)).ravel()  # baskets holding each product
    together = (matrix.T @ matrix).tocsr()  # baskets holding both
    together.setdiag(0)
    together.eliminate_zeros()
    result: dict[int, list[tuple[int, float, int]]] = {}
    for column in range(together.shape[0]):
        start, end = together.indptr[column], together.indptr[column + 1]
        others, both = together.indices[start:end], together.data[start:end]
        lift = both * basket_count / (counts[column] * counts[others])
        keep = (both >= min_support) & (lift > 1)  # seen together often enough, and more than by chance
        if not keep.any():
            continue
        others, both, lift = others[keep], both[keep], lift[keep]
        order = np.lexsort((-both, -lift))[:top]  # best lift, then more baskets together
        result[int(ids[column])] = [(int(ids[others[i]]), float(lift[i]), int(both[i])) for i in order]
    return result
