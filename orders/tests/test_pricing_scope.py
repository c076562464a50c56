"""Rules that depend on what is in the cart, as a shopper meets them: a voucher for some products or
categories (a category includes those below it) discounts only those lines, and a cart without
them is told why; shipping methods that exclude a product are not offered, and with none left the
checkout says which product cannot ship; postcode ranges pick the zone."""
import html
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from orders import services
from orders.models import Order
from orders.pricing import available_methods, price_cart
from orders.tests.factories import cart_with, checkout_details
from promotions.models import ShippingMethod, ShippingZone, Voucher

pytestmark = pytest.mark.django_db
D = Decimal
UK = {"email": "gale@example.com", "shipping_name": "Gale Guest", "shipping_line1": "1 High Street",
      "shipping_city": "London", "shipping_postcode": "SW1A 1AA", "shipping_country": "GB",
      "shipping_method": "standard"}


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def clothes():
    """Outerwear > Jackets > Rain jackets, and Accessories: a rain jacket on sale, a scarf."""
    outerwear = CategoryFactory(name="Outerwear")
    jackets = CategoryFactory(name="Jackets", parent=outerwear)
    rain = CategoryFactory(name="Rain jackets", parent=jackets)
    accessories = CategoryFactory(name="Accessories")
    jacket = VariantFactory(product=ProductFactory(name="Rain jacket", categories=[rain]), price=D("60.00"),
                            sale_price=D("57.00"), stock=20)
    scarf = VariantFactory(product=ProductFactory(name="Scarf", categories=[accessories]), price=D("15.00"),
                           stock=20)
    return {"jackets": jackets, "jacket": jacket, "scarf": scarf, "accessories": accessories}


@pytest.fixture
def spring10(clothes):
    voucher = Voucher.objects.create(code="SPRING10", kind=Voucher.Kind.PERCENTAGE, value=D("10"))
    voucher.categories.set([clothes["jackets"]])
    return voucher


def test_spring10_on_jackets_discounts_the_jacket_below_the_category_on_its_sale_price(clothes, spring10):
    priced = price_cart([(clothes["jacket"], 1), (clothes["scarf"], 2)], voucher_code="spring10")
    assert [(line.discount, line.discount_reason) for line in priced.lines] == \
        [(D("5.70"), "10% SPRING10 on Jackets"), (D("0"), "")]
    assert priced.explanation == "$87.00 − 10% SPRING10 on Jackets = $81.30"


def test_a_cart_without_jackets_is_told_what_the_code_is_for(client, clothes, spring10):
    scarf = clothes["scarf"]
    client.post(reverse("orders:cart_add"), {"product": scarf.product_id, "variant": scarf.pk, "quantity": 1})
    page = client.post(reverse("orders:cart_voucher"), {"code": "SPRING10"}, follow=True)
    assert "SPRING10 applies to Jackets only." in text(page)
    shop_cart = cart_with((scarf, 1))
    shop_cart.voucher_code = "SPRING10"
    shop_cart.save()
    with pytest.raises(services.VoucherNotApplicable, match="SPRING10 applies to Jackets only."):
        services.place_order(cart=shop_cart, customer=None, details=checkout_details(), payment_provider="test",
                             idempotency_key="no-jacket")
    spring10.refresh_from_db()
    assert spring10.used_count == 0 and not Order.objects.exists()


def test_a_fixed_voucher_on_one_product_is_capped_at_that_product(clothes):
    voucher = Voucher.objects.create(code="SCARF50", kind=Voucher.Kind.FIXED, value=D("50"))
    voucher.products.set([clothes["scarf"].product])
    cart = cart_with((clothes["jacket"], 1), (clothes["scarf"], 2))
    cart.voucher_code = "SCARF50"
    cart.save()
    order = services.place_order(cart=cart, customer=None, details=checkout_details(), payment_provider="test",
                                 idempotency_key="scarf")
    lines = {line.product_name: (line.discount, line.discount_reason) for line in order.lines.all()}
    assert lines == {"Rain jacket": (D("0"), ""), "Scarf": (D("30.00"), "SCARF50 on Scarf")}
    assert (order.discount_total, order.total) == (D("30.00"), D("62.00"))  # 87 - 30 + $5 shipping


def test_the_api_takes_and_shows_a_vouchers_products_and_categories(clothes):
    staff = APIClient()
    staff.force_authenticate(UserFactory(is_staff=True))
    body = {"code": "SPRING10", "kind": "percentage", "value": "10", "usage_limit": None,
            "usage_limit_per_customer": 1, "min_subtotal": None, "starts_at": None, "ends_at": None,
            "categories": [clothes["jackets"].pk], "products": [clothes["scarf"].product_id]}
    response = staff.post("/api/v1/vouchers/", body, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["categories"], response.json()["products"]) == \
        ([clothes["jackets"].pk], [clothes["scarf"].product_id])
    bad = staff.post("/api/v1/vouchers/", {**body, "code": "BAD", "categories": [999999]}, format="json")
    assert bad.status_code == 400 and "categories" in bad.json()["fields"]


@pytest.fixture
def sofa_shop(clothes):
    """UK zone: standard (not for the sofa) and freight; Northern Ireland (BT1-BT99): post only."""
    sofa = VariantFactory(product=ProductFactory(name="Sofa"), price=D("500.00"), stock=5)
    ShippingZone.objects.all().delete()
    uk = ShippingZone.objects.create(name="UK", countries=["GB"])
    standard = ShippingMethod.objects.create(zone=uk, code="standard", name="UK standard", price=D("4.95"))
    ShippingMethod.objects.create(zone=uk, code="freight", name="Freight", price=D("49.00"), position=1)
    standard.excluded_products.set([sofa.product])
    northern_ireland = ShippingZone.objects.create(name="NI", countries=["GB"], postcode_prefixes=["BT1-BT99"])
    post = ShippingMethod.objects.create(zone=northern_ireland, code="standard", name="NI post", price=D("6.00"))
    post.excluded_products.set([sofa.product])
    return sofa


def test_checkout_offers_only_the_methods_that_take_the_cart(client, clothes, sofa_shop):
    jacket = clothes["jacket"]
    for variant in (jacket, sofa_shop):
        client.post(reverse("orders:cart_add"), {"product": variant.product_id, "variant": variant.pk, "quantity": 1})
    page = client.post(reverse("orders:checkout"), UK)
    assert [code for code, _ in page.context["form"]["shipping_method"].field.choices] == ["freight"]
    assert "UK standard cannot take Sofa; choose Freight." in text(page)
    review = client.post(reverse("orders:checkout"), {**UK, "shipping_method": "freight"}, follow=True)
    assert "Freight" in text(review) and review.resolver_match.url_name == "checkout_review"


def test_with_no_method_left_checkout_names_the_product_that_cannot_ship(client, sofa_shop):
    client.post(reverse("orders:cart_add"), {"product": sofa_shop.product_id, "variant": sofa_shop.pk,
                                             "quantity": 1})
    page = client.post(reverse("orders:checkout"), {**UK, "shipping_postcode": "BT12 5AB"})
    reason = "Sofa cannot ship to United Kingdom: remove it from your cart or choose another address."
    assert page.context["form"]["shipping_method"].field.choices == [] and reason in text(page)
    with pytest.raises(services.UnknownShippingMethod, match="Sofa cannot ship to United Kingdom"):
        services.place_order(cart=cart_with((sofa_shop, 1)), customer=None, payment_provider="test",
                             details=checkout_details(shipping_country="GB", shipping_postcode="BT12 5AB"),
                             idempotency_key="sofa")


def test_the_api_refuses_a_method_that_excludes_an_item(sofa_shop):
    client = APIClient()
    client.force_authenticate(UserFactory())
    body = {"items": [{"variant": sofa_shop.pk, "quantity": 1}], "shipping_method": "standard",
            "shipping_address": {"name": "Ann", "line1": "1 High Street", "city": "London", "postcode": "SW1A 1AA",
                                 "country": "GB"}}
    response = client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="sofa-api")
    assert response.status_code == 400
    assert response.json()["fields"]["shipping_method"] == ["UK standard cannot take Sofa; choose Freight."]


@pytest.mark.parametrize(("postcode", "methods"), [
    ("BT1 1AA", ["NI post"]), ("BT99 9ZZ", ["NI post"]), ("BT125AB", ["NI post"]),
    ("BT100 1AA", ["UK standard", "Freight"]), ("SW1A 1AA", ["UK standard", "Freight"]),
])
def test_a_postcode_range_picks_its_zone(sofa_shop, postcode, methods):
    assert [method.name for method in available_methods("GB", postcode)] == methods


def test_a_voucher_for_many_things_names_a_few_in_its_reason(clothes):
    voucher = Voucher.objects.create(code="WINTER", kind=Voucher.Kind.FIXED, value=D("1"))
    voucher.categories.set([clothes["jackets"], clothes["accessories"]])
    voucher.products.set([ProductFactory(name="Woollen hat with a very long name indeed"),
                          ProductFactory(name="Boots")])
    priced = price_cart([(clothes["scarf"], 1)], voucher_code="WINTER")
    assert priced.lines[0].discount_reason == "WINTER on Accessories, Jackets, Boots and 1 more"


def test_a_voucher_never_discounts_a_gift_card(clothes):
    Voucher.objects.create(code="TENOFF", kind=Voucher.Kind.PERCENTAGE, value=D("10"))
    card = VariantFactory(product=ProductFactory(name="Gift card $25", is_gift_card=True), price=D("25.00"), stock=99)
    priced = price_cart([(clothes["scarf"], 1), (card, 1)], voucher_code="tenoff")
    assert [(line.discount, line.discount_reason) for line in priced.lines] == [(D("1.50"), "10% TENOFF"), (D("0.00"), "")]
    alone = price_cart([(card, 2)], voucher_code="tenoff")
    assert alone.discount == 0 and alone.total == D("50.00")
    assert alone.voucher_error == "TENOFF applies to other products only."
