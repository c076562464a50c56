"""The catalogue's vocabulary: every word of the stored search documents, with the number of
documents holding it, for prefix checks and typo correction (rapidfuzz).

Read once per process and again whenever the documents change: each search reads the documents'
count and latest update (one small query) and rebuilds the vocabulary when they moved.
"""
import bisect
import threading
from collections import Counter

from django.db.models import Count, Max
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .models import SearchDocument

MIN_CORRECTED_LENGTH = 3  # shorter words are never corrected, nor suggested


def max_typos(word: str) -> int:
    """Edits (insertions, deletions, substitutions, swaps of neighbours) forgiven in `word`:
    0 up to 2 letters, 1 up to 5, then 2 (Elasticsearch's "fuzziness": "AUTO")."""
    return 0 if len(word) < MIN_CORRECTED_LENGTH else 1 if len(word) <= 5 else 2


class Vocabulary:
    """Words with their document frequency; `words` sorted for prefix look-ups; `name_words` the
    words of product names."""

    def __init__(self, frequency: Counter, name_words: set[str] = frozenset()):
        self.frequency = frequency
        self.words = sorted(frequency)
        self.name_words = name_words
        # Typo candidates: words of letters only, long enough to be worth suggesting.
        self.correctable = [word for word in self.words if len(word) >= MIN_CORRECTED_LENGTH and word.isalpha()]
        self.correctable_names = [word for word in self.correctable if word in name_words]
        self.sorted_names = sorted(name_words)

    def has_prefix(self, prefix: str) -> bool:
        """Some word starts with `prefix`."""
        return _starts_some(self.words, prefix)

    def name_words_with_prefix(self, prefix: str) -> bool:
        """Some word of a product name starts with `prefix`."""
        return _starts_some(self.sorted_names, prefix)

    def corrections(self, word: str, limit: int = 2, names_only: bool = False) -> list[str]:
        """The closest words to `word` within max_typos (by Optimal String Alignment distance, so a
        swap of two neighbours is one typo), most frequent first among equals; at most `limit`.
        With `names_only`, only words of product names, never `word` itself."""
        allowed = max_typos(word)
        if not allowed or not word.isalpha():
            return []
        choices = self.correctable_names if names_only else self.correctable
        found = process.extract(word, choices, scorer=OSA.distance, score_cutoff=allowed, limit=None)
        found = [match for match in found if match[1]]
        found.sort(key=lambda match: (match[1], -self.frequency[match[0]], match[0]))
        best = found[0][1] if found else None
        return [match[0] for match in found if match[1] == best][:limit]


def _starts_some(words: list[str], prefix: str) -> bool:
    at = bisect.bisect_left(words, prefix)
    return at < len(words) and words[at].startswith(prefix)


_lock = threading.Lock()
_current: tuple[tuple, Vocabulary] | None = None


def current_vocabulary() -> Vocabulary:
    """The vocabulary of the stored documents as they are now."""
    global _current
    stamp = tuple(SearchDocument.objects.aggregate(count=Count("pk"), latest=Max("updated_at")).values())
    with _lock:
        if _current is not None and _current[0] == stamp:
            return _current[1]
    frequency: Counter = Counter()
    names: set[str] = set()
    for texts in SearchDocument.objects.values_list("name_text", "keywords", "body").iterator(chunk_size=2000):
        frequency.update(set(" ".join(texts).split()))
        names.update(texts[0].split())
    vocabulary = Vocabulary(frequency, names)
    with _lock:
        _current = (stamp, vocabulary)
    return vocabulary
