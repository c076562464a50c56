"""The /staff/ page at real scale (issue 24): low stock only for sellable catalogue products (never
the hidden imported history), recent orders of the web shop with their stored unit counts."""
import pytest

from analytics import selectors
from catalog.tests.factories import VariantFactory
from orders.tests.factories import OrderFactory
from shop.sources import Source

pytestmark = pytest.mark.django_db


def test_low_stock_covers_only_active_sellable_products():
    low = VariantFactory(stock=1, sku="LIVE-1")
    VariantFactory(stock=0, sku="OR-85123A", product__is_visible=False, product__source=Source.ONLINE_RETAIL)
    VariantFactory(stock=0, sku="RETIRED", is_active=False)
    assert [v.sku for v in selectors.low_stock_variants()] == [low.sku]


def test_recent_orders_are_the_web_shops():
    web = OrderFactory(item_count=3)
    OrderFactory(source=Source.ONLINE_RETAIL)
    assert [(o.pk, o.item_count) for o in selectors.recent_orders()] == [(web.pk, 3)]
