"""The words of catalogue text and of search queries, one rule for both, so that what a shopper
types is cut exactly as the stored documents were.

A word is a run of letters and digits, lower-cased, accents and apostrophes dropped ("Men's" ->
"mens"). Hyphenated words count joined ("MH01-XS-Black" -> "mh01xsblack", so "MH01-XS" finds it
as a prefix) and, in documents only, also part by part ("mh01", "xs", "black"). Documents keep
each word once per field, as " word word ... " (a leading and trailing space), so that a word
prefix is the substring " " + prefix on every database.
"""
import html
import re
import unicodedata
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_TAG = re.compile(r"<[^>]*>")
_APOSTROPHES = str.maketrans("", "", "'\u2019")


def _fold(text: str) -> str:
    """Entities decoded, lower case, no accents or apostrophes."""
    text = unicodedata.normalize("NFKD", html.unescape(text).casefold().translate(_APOSTROPHES))
    return "".join(char for char in text if not unicodedata.combining(char))


def query_words(text: str) -> list[str]:
    """The words a shopper typed, in order: hyphenated ones joined ("t-shirt" -> "tshirt")."""
    return [match.replace("-", "") for match in _WORD.findall(_fold(text))]


def document_words(text: str) -> list[str]:
    """The words of catalogue text (HTML tags dropped), each hyphenated word joined and in parts."""
    words = []
    for match in _WORD.findall(_fold(_TAG.sub(" ", text))):
        parts = match.split("-")
        words.append("".join(parts))
        if len(parts) > 1:
            words.extend(parts)
    return words


def field_text(pieces: Iterable[str]) -> str:
    """The stored form of one field: its distinct words in order, as " a b c " ("" for none)."""
    words = dict.fromkeys(word for piece in pieces for word in document_words(piece))
    return f" {' '.join(words)} " if words else ""


def build_document(*, name: str, skus: Iterable[str], keywords: Iterable[str], body: Iterable[str]) -> dict:
    """The stored search fields of one product: `name_text` (its name), `keywords` (SKUs of the
    product and its variants, colours, sizes, category names, attribute values) and `body`
    (descriptions, HTML allowed)."""
    return {"name_text": field_text([name]), "keywords": field_text([*skus, *keywords]), "body": field_text(body)}
