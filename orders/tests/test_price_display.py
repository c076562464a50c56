"""Prices shown with tax or without (issue 26: "whether shoppers see gross or net";
orders.pricing.display). The shop enters prices one way (SHOP_PRICES_INCLUDE_TAX) and shows them
the way SHOP_DISPLAY_GROSS_PRICES says: catalogue prices at the shop country's rate, cart and order
lines at their own, and the amounts shown always add up to the total charged, to the cent."""
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given, settings as hypothesis_settings

from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from orders.pricing import price
from orders.tests.test_pricing_checkout import UK, text
from orders.tests.test_pricing_engine import lines, policies, rate_tables, shipping_methods, vouchers
from promotions.models import ShippingMethod, ShippingZone, TaxRate

D = Decimal


@given(lines(), policies, rate_tables(), shipping_methods, vouchers)
@hypothesis_settings(max_examples=400, deadline=None)
def test_the_amounts_shown_add_up_to_the_total_charged(items, policy, table, shipping, voucher):
    try:
        cart = price(items, policy=policy, rates=table, shipping=shipping, voucher=voucher)
    except Exception as exc:  # noqa: BLE001 - parcels too heavy for every band: not what this tests
        assert type(exc).__name__ == "ShippingNotAvailable"
        return
    shown = [line.shown for line in cart.lines] + ([cart.shipping.shown] if cart.shipping else [])
    assert all(part.discount >= 0 and part.amount >= 0 for part in shown)
    assert all(part.line_total - part.discount == part.amount for part in shown)
    added_tax = D("0") if policy.display_gross else cart.tax
    assert sum(part.amount for part in shown) + added_tax == cart.total
    if policy.display_gross:
        assert all(line.shown.amount == line.gross for line in cart.lines)
    else:
        assert all(line.shown.amount == line.net for line in cart.lines)


@pytest.fixture
def b2b_shop(settings, db):
    """A UK shop whose prices are entered with 20 % VAT but shown without it (a trade shop)."""
    settings.SHOP_CURRENCY, settings.SHOP_TAX_ORIGIN_COUNTRY = "GBP", "GB"
    settings.SHOP_PRICES_INCLUDE_TAX, settings.SHOP_DISPLAY_GROSS_PRICES = True, False
    settings.SHOP_PAGE_CACHE_SECONDS = settings.SHOP_FACETS_CACHE_SECONDS = 0
    TaxRate.objects.create(country="GB", tax_class="standard", rate=D("0.20"), name="VAT")
    uk = ShippingZone.objects.create(name="UK", countries=["GB"])
    ShippingMethod.objects.create(zone=uk, code="standard", name="UK standard", price=D("6.00"))
    jackets = CategoryFactory(name="Jackets", slug="jackets", path="jackets")
    jacket = ProductFactory(name="Jacket", categories=[jackets])
    return jackets, VariantFactory(product=jacket, sku="J-M", price=D("60.00"), stock=5)


def test_a_trade_shop_shows_prices_without_vat_everywhere_and_charges_the_same(client, b2b_shop):
    jackets, jacket = b2b_shop
    [card] = client.get(jackets.get_absolute_url()).context["products"]
    assert card.price_from == D("50.00")  # £60.00 entered with VAT
    page = client.get(jacket.product.get_absolute_url())
    assert page.context["picker"].price_from == D("50.00") and "£50.00" in text(page)

    client.post(reverse("orders:cart_add"), {"product": jacket.product_id, "variant": jacket.pk, "quantity": 2})
    cart = text(client.get(reverse("orders:cart")))
    assert "£100.00" in cart and "£120.00" not in cart

    review = client.post(reverse("orders:checkout"), UK, follow=True)
    summary = review.context["summary"]
    assert (summary.subtotal, summary.shipping_price, summary.tax, summary.total) == (
        D("100.00"), D("5.00"), D("21.00"), D("126.00"))  # shown net, VAT added: what is charged
    assert "Includes VAT" not in text(review) and "£21.00" in text(review)


def test_a_shop_entering_net_prices_can_show_them_with_tax(client, settings, db):
    settings.SHOP_TAX_ORIGIN_COUNTRY = "US"
    settings.SHOP_PRICES_INCLUDE_TAX, settings.SHOP_DISPLAY_GROSS_PRICES = False, True
    settings.SHOP_PAGE_CACHE_SECONDS = settings.SHOP_FACETS_CACHE_SECONDS = 0
    TaxRate.objects.create(country="US", tax_class="standard", rate=D("0.10"), name="Sales tax")
    TaxRate.objects.create(country="US", tax_class="reduced", rate=D("0.05"), name="Sales tax")
    tees = CategoryFactory(name="Tees", slug="tees", path="tees")
    VariantFactory(product=ProductFactory(name="Tee", categories=[tees]), price=D("20.00"), stock=5)
    VariantFactory(product=ProductFactory(name="Book", categories=[tees], tax_class="reduced"), price=D("20.00"),
                   stock=5)
    cards = client.get(f"{tees.get_absolute_url()}?sort=name").context["products"]
    assert [(card.name, card.price_from) for card in cards] == [("Book", D("21.00")), ("Tee", D("22.00"))]

    def filtered(query: str) -> list[str]:  # shoppers type the prices they see, with tax
        return [card.name for card in client.get(f"{tees.get_absolute_url()}?sort=name&{query}").context["products"]]

    assert filtered("max_price=21.50") == ["Book"]  # both are £20.00 entered
    assert filtered("min_price=22") == ["Tee"]
    assert filtered("min_price=21&max_price=22") == ["Book", "Tee"]  # the bounds are inclusive, to the cent
    assert filtered("max_price=20.99") == []


def test_a_trade_shop_filters_on_the_prices_it_shows(client, b2b_shop):
    jackets, _ = b2b_shop  # £60.00 entered with VAT, shown £50.00
    def filtered(query: str) -> list[str]:
        return [card.name for card in client.get(f"{jackets.get_absolute_url()}?{query}").context["products"]]

    assert filtered("max_price=50") == filtered("min_price=50") == ["Jacket"]
    assert filtered("max_price=49.99") == filtered("min_price=50.01") == []

    def api(query: str) -> list[tuple[str, str]]:  # the API shows, and so filters on, the entered prices
        return [(card["name"], card["price_from"]) for card in client.get(f"/api/v1/products/?{query}").json()["results"]]

    assert api("max_price=60") == [("Jacket", "60.00")] and api("max_price=59.99") == []


def test_shown_as_entered_reads_no_tax_rates(client, settings, db, django_assert_num_queries):
    """The default: nothing is converted, and no page pays a query for it."""
    from orders.pricing.display import show_catalogue_prices
    settings.SHOP_DISPLAY_GROSS_PRICES = settings.SHOP_PRICES_INCLUDE_TAX
    with django_assert_num_queries(0):
        show_catalogue_prices([object()])
