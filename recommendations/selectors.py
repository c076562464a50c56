"""Reads of stored recommendations, as product cards (catalog.selectors.load_cards)."""
from dataclasses import dataclass

from catalog.models import Product
from catalog.selectors import ProductCard, load_cards

from .models import Recommendation

SHOWN = 4  # cards per rail


@dataclass(frozen=True)
class Rail:
    """A titled row of product cards, each with the reason it is there (`reasons`, by product id)."""

    kind: str
    title: str
    cards: list[ProductCard]
    reasons: dict[int, str]


def rails_for(product_id: int, *, limit: int = SHOWN) -> list[Rail]:
    """The product page's rails ("Customers also bought", then "Similar products"), each with at
    most `limit` cards of visible products with stock; rails with none are left out. A product
    already shown in the first rail is not repeated in the second. Queries: 2, and load_cards' 4."""
    stored = list(Recommendation.objects.filter(product_id=product_id).order_by("kind", "rank")
                  .values_list("kind", "recommended_id", "reason"))
    buyable = set(Product.objects.visible().filter(pk__in={pk for _, pk, _ in stored}, variants__is_active=True,
                                                   variants__stock__gt=0).values_list("pk", flat=True))
    picked: dict[str, list[tuple[int, str]]] = {}
    seen: set[int] = set()
    for kind in (Recommendation.Kind.ALSO_BOUGHT, Recommendation.Kind.SIMILAR):
        for stored_kind, pk, reason in stored:
            if stored_kind == kind and pk in buyable and pk not in seen and len(picked.get(kind, ())) < limit:
                picked.setdefault(kind, []).append((pk, reason))
                seen.add(pk)
    cards = {card.pk: card for card in load_cards([{"pk": pk} for pk in seen])} if seen else {}
    return [Rail(kind=kind, title=Recommendation.Kind(kind).label,
                 cards=[cards[pk] for pk, _ in picks if pk in cards], reasons=dict(picks))
            for kind, picks in picked.items()]
