"""Property tests (hypothesis) of how gift cards share an order's total (giftcards.services.plan_charges):
whatever the balances and the total, the cards never pay more than the total nor more than each
holds, never a negative amount, and pay all they can: the total, or every balance when it is less."""
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from giftcards.models import GiftCard
from giftcards.services import plan_charges

MONEY = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2, allow_nan=False,
                    allow_infinity=False)


@settings(max_examples=500, deadline=None)
@given(balances=st.lists(MONEY, max_size=5), total=MONEY)
def test_cards_pay_what_they_can_and_never_more(balances, total):
    cards = [GiftCard(pk=index + 1, code=f"CARD{index:04d}", balance=balance)
             for index, balance in enumerate(balances)]
    charges = plan_charges(cards, total)
    paid = sum((charge.amount for charge in charges), Decimal("0"))
    assert paid == min(total, sum(balances, Decimal("0")))
    assert all(Decimal("0") < charge.amount <= cards[charge.card_id - 1].balance for charge in charges)
    assert [c.card_id for c in charges] == sorted(c.card_id for c in charges)  # in the order entered
