"""Product search over the stored documents (catalog.search.models.SearchDocument), the same
rules on every database:

1. The query is cut into words as the documents were (catalog.search.text). Each word becomes a
   term: a word prefix of some catalogue word stays (its singular when that is one too:
   "jackets" -> "jacket"), joined by the closest word of a product name when it starts none
   ("kangaroo" also finds "Kangeroo"); an unknown word is replaced by its closest catalogue
   words (catalog.search.vocabulary), which also makes the "Did you mean" suggestion. A few
   shoppers' words also find the catalogue's (SYNONYMS: "tshirt" finds "tee").
2. A product matches when every term starts a word of its document: on PostgreSQL through the
   stored tsvector and its GIN index (prefix tsquery), elsewhere with LIKE on the stored texts.
3. Relevance (`relevance`, a float, best first): per term, 12 for a whole word of the name, 10
   for a word prefix in the name, 3 in the keywords (SKUs, colours, categories, attributes), 1 in
   the descriptions; less a thousandth per letter of the name, so shorter names come first among
   equals. catalog.selectors.RELEVANCE_KEYS pages through that order.
"""
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Length

from catalog.models import Product

from .documents import CONFIG
from .text import query_words
from .vocabulary import current_vocabulary

NAME_WORD, NAME_PREFIX, KEYWORD, BODY = 12, 10, 3, 1
STOP_WORDS = {"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with"}
# Words shoppers type for what the catalogue names otherwise: each also finds its synonym.
SYNONYMS = {"tshirt": "tee", "shirt": "tee", "sweater": "sweatshirt", "trousers": "pant", "hoody": "hoodie",
            "rucksack": "backpack"}


@dataclass(frozen=True)
class Term:
    """One query word: `prefixes` are the catalogue word prefixes that satisfy it (one or two)."""

    word: str
    prefixes: tuple[str, ...]
    corrected: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """A query as the search understands it. `suggestion` is the query with its typos corrected
    ("" when nothing was corrected), for a "Did you mean" link."""

    text: str
    terms: tuple[Term, ...] = field(default=())
    suggestion: str = ""


def _singular(word: str, vocabulary) -> str:
    """`word` without a plural ending when the result still starts a catalogue word."""
    stems = []
    if word.endswith("ies"):
        stems += [word[:-1], word[:-3] + "y"]
    elif word.endswith("es"):
        stems += [word[:-1], word[:-2]]
    elif word.endswith("s") and not word.endswith("ss"):
        stems.append(word[:-1])
    return next((stem for stem in stems if len(stem) >= 3 and vocabulary.has_prefix(stem)), word)


def parse_query(text: str) -> ParsedQuery:
    """Cut `text` into terms and correct its typos against the catalogue's vocabulary."""
    words = query_words(text)[:20]
    words = [word for word in words if word not in STOP_WORDS] or words
    if not words:
        return ParsedQuery(text)
    vocabulary = current_vocabulary()
    terms = []
    for word in words:
        stem = _singular(word, vocabulary)  # `word` itself unless the singular starts a catalogue word
        if synonym := SYNONYMS.get(word) or SYNONYMS.get(stem):
            terms.append(Term(word, (stem, synonym)))
        elif stem != word or vocabulary.has_prefix(word):
            # A word known only from descriptions may be a typo of a name's ("kangaroo" for the
            # "Chaz Kangeroo Hoodie"): both count.
            near = [] if vocabulary.name_words_with_prefix(stem) else vocabulary.corrections(stem, 1, names_only=True)
            terms.append(Term(word, (stem, *near)))
        elif corrections := vocabulary.corrections(word):
            terms.append(Term(word, tuple(corrections), corrected=True))
        else:
            terms.append(Term(word, (word,)))
    suggestion = " ".join(term.prefixes[0] if term.corrected else term.word for term in terms)
    return ParsedQuery(text, tuple(terms), suggestion if any(term.corrected for term in terms) else "")


def _contains(column: str, prefixes: tuple[str, ...], after: str = "") -> Q:
    """Some prefix starts a word of the document's `column` (with `after` : " " for a whole word)."""
    query = Q()
    for prefix in prefixes:
        query |= Q(**{f"search_document__{column}__contains": f" {prefix}{after}"})
    return query


def _matches(terms: tuple[Term, ...]) -> Q:
    if connection.vendor == "postgresql":
        raw = " & ".join("(" + " | ".join(f"{prefix}:*" for prefix in term.prefixes) + ")" for term in terms)
        return Q(search_document__vector=SearchQuery(raw, search_type="raw", config=CONFIG))
    query = Q()
    for term in terms:
        query &= _contains("name_text", term.prefixes) | _contains("keywords", term.prefixes) | _contains(
            "body", term.prefixes)
    return query


def relevance(terms: tuple[Term, ...]):
    """The relevance expression of the module docstring (a float)."""
    score = Value(0)
    for term in terms:
        score += Case(
            When(_contains("name_text", term.prefixes, " "), then=Value(NAME_WORD)),
            When(_contains("name_text", term.prefixes), then=Value(NAME_PREFIX)),
            When(_contains("keywords", term.prefixes), then=Value(KEYWORD)),
            default=Value(BODY),
        )
    return Cast(score, FloatField()) - Cast(Length(F("search_document__name_text")), FloatField()) / Value(1000.0)


def search_products(queryset: QuerySet[Product], query: "str | ParsedQuery") -> QuerySet[Product]:
    """Filter `queryset` to the products matching `query` (text, or parse_query's result), best
    match first, annotated with `relevance`. An empty query matches nothing."""
    parsed = parse_query(query) if isinstance(query, str) else query
    if not parsed.terms:
        return queryset.none()
    return (queryset.filter(_matches(parsed.terms)).annotate(relevance=relevance(parsed.terms))
            .order_by(F("relevance").desc(), "name", "pk"))
