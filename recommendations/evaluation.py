"""Offline evaluation of the recommendation algorithms on the UCI Online Retail history, with a
fixed protocol so that figures can be compared (issue 27):

- lines with a customer, a positive quantity and price, no "C" (credit note) invoice, and a stock
  code of five digits plus an optional letter;
- train on invoices before 2011-10-01, test on the rest; test customers are those with purchases
  on both sides;
- for each, recommend 10 products they did not buy in training; the targets are the distinct
  products they bought in the test period and had not bought before.

Metrics at 10 (Järvelin & Kekäläinen 2002 for nDCG, binary relevance): precision, recall, hit rate,
nDCG, and catalogue coverage (distinct products recommended / products in training).
The hybrid's weight is chosen on a validation split of the training period (train before
2011-07-01, validate on 2011-07-01 to 2011-10-01, same rules), never on the test split.
Every algorithm is the shop's own (recommendations.algorithms), fed from the file, not the database.
"""
import csv
import gzip
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from . import algorithms

STOCK_CODE = re.compile(r"^\d{5}[A-Za-z]?$")
TEST_FROM = datetime(2011, 10, 1)
VALIDATION_FROM = datetime(2011, 7, 1)
K = 10
NEIGHBOURS = 50  # neighbours kept per product for the item-kNN scoring
WEIGHTS = [round(step / 10, 1) for step in range(11)]  # the hybrid's also-bought weights tried


@dataclass(frozen=True)
class Line:
    invoice: str
    product: str
    customer: str
    at: datetime


def read_lines(path) -> tuple[list[Line], dict[str, str]]:
    """The protocol's lines of the file at `path`, and each product's description."""
    lines, descriptions = [], {}
    with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            code, customer = row["StockCode"].strip(), (row["CustomerID"] or "").strip()
            try:
                quantity, price = int(row["Quantity"]), float(row["UnitPrice"])
            except ValueError:
                continue
            if (not customer or quantity <= 0 or price <= 0 or row["InvoiceNo"].startswith("C")
                    or not STOCK_CODE.match(code)):
                continue
            code = code.upper()
            lines.append(Line(row["InvoiceNo"], code, customer.split(".")[0],
                              datetime.strptime(row["InvoiceDate"], "%Y-%m-%d %H:%M")))
            descriptions.setdefault(code, row["Description"] or "")
    return lines, descriptions


@dataclass
class Split:
    """Training baskets and histories, and the test targets per customer."""

    baskets: list[list[str]]
    history: dict[str, set[str]]
    targets: dict[str, set[str]]


def split(lines: list[Line], start: datetime, end: datetime | None) -> Split:
    """Train on lines before `start`; targets from `start` until `end` (None: the end)."""
    baskets: dict[str, list[str]] = defaultdict(list)
    history: dict[str, set[str]] = defaultdict(set)
    later: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        if line.at < start:
            baskets[line.invoice].append(line.product)
            history[line.customer].add(line.product)
        elif end is None or line.at < end:
            later[line.customer].add(line.product)
    targets = {customer: products - history[customer] for customer, products in later.items()
               if customer in history and products - history[customer]}
    return Split(list(baskets.values()), dict(history), targets)


class Recommender:
    """The shop's algorithms trained on one split: popularity, also-bought (cosine over customers), similar
    (TF-IDF on descriptions), and their item-kNN blends for a customer's history."""

    def __init__(self, data: Split, descriptions: dict[str, str]):
        codes = sorted({product for basket in data.baskets for product in basket})
        self.index = {code: number for number, code in enumerate(codes)}
        self.codes = codes
        counts = Counter(product for basket in data.baskets for product in set(basket))
        self.popular = [code for code, _ in counts.most_common()]
        histories = ([self.index[product] for product in products] for products in data.history.values())
        self.bought = {pk: [(other, cosine) for other, cosine, _ in picks] for pk, picks in
                       algorithms.also_bought(histories, top=NEIGHBOURS, min_support=3).items()}
        self.similar = algorithms.similar({self.index[code]: descriptions.get(code, "") for code in codes},
                                          top=NEIGHBOURS)
        self.history = data.history

    def scores(self, customer: str, weight: float) -> dict[int, float]:
        """Item-kNN: each product bought contributes its neighbours' scores, each list scaled to its
        best; also-bought weighted `weight`, similar 1 - `weight`."""
        result: dict[int, float] = defaultdict(float)
        for code in self.history.get(customer, ()):
            pk = self.index.get(code)
            for table, share in ((self.bought, weight), (self.similar, 1 - weight)):
                picks = table.get(pk) if share else None
                if picks:
                    best = picks[0][1] or 1.0
                    for other, score in picks:
                        result[other] += share * score / best
        return result

    def recommend(self, customer: str, algorithm: str) -> list[str]:
        """K product codes for `customer`, none bought in training; popularity fills a short list."""
        seen = self.history.get(customer, set())
        ranked: list[str] = []
        if algorithm != "popular":
            weight = {"also_bought": 1.0, "similar": 0.0}.get(algorithm, self.weight)
            scores = self.scores(customer, weight)
            ranked = [self.codes[pk] for pk in sorted(scores, key=lambda pk: (-scores[pk], pk))]
        picks = [code for code in ranked if code not in seen][:K]
        for code in self.popular:
            if len(picks) >= K:
                break
            if code not in seen and code not in picks:
                picks.append(code)
        return picks

    weight = 0.5


def metrics(recommender: Recommender, targets: dict[str, set[str]], algorithm: str) -> dict[str, float]:
    """precision@K, recall@K, hit rate@K, nDCG@K (means over customers) and coverage."""
    totals = Counter()
    shown: set[str] = set()
    for customer, wanted in targets.items():
        picks = recommender.recommend(customer, algorithm)
        shown.update(picks)
        hits = [code in wanted for code in picks]
        totals["precision"] += sum(hits) / K
        totals["recall"] += sum(hits) / len(wanted)
        totals["hit_rate"] += any(hits)
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(wanted), K)))
        totals["ndcg"] += sum(1 / math.log2(rank + 2) for rank, hit in enumerate(hits) if hit) / ideal
    count = len(targets) or 1
    result = {name: totals[name] / count for name in ("precision", "recall", "hit_rate", "ndcg")}
    result["coverage"] = len(shown) / (len(recommender.codes) or 1)
    return result


def evaluate(path) -> dict:
    """The protocol's table: {algorithm: metrics}, the hybrid weight chosen on validation, the
    number of test customers."""
    lines, descriptions = read_lines(path)
    validation = Recommender(split(lines, VALIDATION_FROM, TEST_FROM), descriptions)
    validation_targets = split(lines, VALIDATION_FROM, TEST_FROM).targets
    chosen = max(WEIGHTS, key=lambda weight: _ndcg_at(validation, validation_targets, weight))
    test_split = split(lines, TEST_FROM, None)
    recommender = Recommender(test_split, descriptions)
    recommender.weight = chosen
    table = {algorithm: metrics(recommender, test_split.targets, algorithm)
             for algorithm in ("popular", "also_bought", "similar", "hybrid")}
    return {"table": table, "hybrid_weight": chosen, "customers": len(test_split.targets),
            "products": len(recommender.codes)}


def _ndcg_at(recommender: Recommender, targets, weight: float) -> float:
    recommender.weight = weight
    return metrics(recommender, targets, "hybrid")["ndcg"]
