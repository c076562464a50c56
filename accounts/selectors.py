"""Reads of the shopper's own things: the wishlist page's cards."""
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.sessions.backends.base import SessionBase

from catalog.models import Variant
from catalog.selectors import ProductCard, load_cards
from orders.pricing import display, shop_policy

from .models import WishlistItem
from .services import SESSION_WISHLIST_KEY


@dataclass(frozen=True)
class WishlistEntry:
    """One wishlist line as the page shows it: the product's listing `card` (photo, name, lowest
    price, stock across its variants) and the `variant` wished for (None: the product itself), with
    its prices as shown (orders.pricing.display)."""

    card: ProductCard
    variant: Variant | None
    price: Decimal | None = None  # the variant's selling price as shoppers are shown it (with or without tax)
    regular_price: Decimal | None = None  # its regular price, likewise

    @property
    def in_stock(self) -> bool:
        """The wished-for variant, or any variant of the product, can be bought now."""
        return self.variant.in_stock if self.variant is not None else self.card.stock_total > 0


def wishlist_entries(*, user, session: SessionBase) -> list[WishlistEntry]:
    """The shopper's wishlist, newest first for a customer (the session's order for a guest), as
    cards. Deleted products are left out. Queries: 6 for a customer, 5 for a
    guest (the items or variants, then catalog.selectors.load_cards' 4), whatever its length."""
    if user.is_authenticated:
        pairs = [(item.product_id, item.variant) for item in
                 WishlistItem.objects.filter(user=user).select_related("variant").order_by("-pk")]
    else:
        entries = session.get(SESSION_WISHLIST_KEY, [])
        variants = Variant.objects.in_bulk([variant_id for _, variant_id in entries if variant_id])
        pairs = [(product_id, variants.get(variant_id)) for product_id, variant_id in entries]
    cards = {card.pk: card for card in load_cards([{"pk": product_id} for product_id, _ in pairs])}
    policy = shop_policy()
    rates = display.origin_rates(policy) if any(variant for _, variant in pairs) else {}

    def entry(card: ProductCard, variant: Variant | None) -> WishlistEntry:
        if variant is None:
            return WishlistEntry(card=card, variant=None)
        return WishlistEntry(card=card, variant=variant,
                             price=display.catalogue_price(variant.unit_price, card.tax_class, rates, policy),
                             regular_price=display.catalogue_price(variant.price, card.tax_class, rates, policy))

    return [entry(cards[product_id], variant) for product_id, variant in pairs if product_id in cards]
