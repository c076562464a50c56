"""The home page's rails (catalog/rails.py) and the header's mega-menu (catalog/menu.py), as a
shopper sees them: full rails, discounted products first, photos first, and a menu three levels
deep holding only categories with something to buy."""
from decimal import Decimal

import pytest

from catalog import rails
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_on_sale_shows_discounted_products_first_then_the_sale_collection(client, settings):
    settings.SHOP_SALE_CATEGORY = "promotions"
    promotions = CategoryFactory(name="Promotions", slug="promotions", path="promotions", depth=1)
    for number in range(10):
        ProductFactory(name=f"Promoted {number}", categories=[promotions], with_variant=True)
    VariantFactory(product=ProductFactory(name="Discounted"), price=Decimal("40.00"), sale_price=Decimal("30.00"))
    names = [card.name for card in rails.on_sale()]
    assert len(names) == rails.RAIL_SIZE and names[0] == "Discounted"
    page = client.get("/").content.decode()
    assert "<h2>On sale</h2>" in page and "<h2>New arrivals</h2>" in page and "<h2>Best sellers</h2>" in page


def test_the_menu_is_three_levels_deep_and_skips_categories_without_products(client):
    path, parent = "", None
    for depth, name in enumerate(["Gear", "Fitness", "Promotions", "Erin Recommends"], start=1):
        path = f"{path}/{name.lower().replace(' ', '-')}".strip("/")
        parent = CategoryFactory(name=name, slug=path.rsplit("/", 1)[-1], path=path, depth=depth, parent=parent)
    ProductFactory(name="Deep ball", categories=[parent], with_variant=True)
    CategoryFactory(name="Nothing here", slug="nothing", path="nothing", depth=1)
    header = client.get("/").content.decode().split('class="category-nav"')[1].split("</nav>")[0]
    assert ">Gear</a>" in header and ">Fitness</a>" in header and ">Promotions</a>" in header
    assert "Erin Recommends" not in header and "Nothing here" not in header
