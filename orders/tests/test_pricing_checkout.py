"""The pricing engine in the shop: the default zone from SHOP_SHIPPING_RATES, tax by country, the
voucher code in the cart (no JavaScript) and the API, and what a placed order keeps and charges."""
import html
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from catalog.tests.factories import VariantFactory
from orders import services
from orders.models import Order
from orders.tests.factories import cart_with, checkout_details
from payments.testing import checkout_and_approve, place_paid_order
from promotions.models import ShippingMethod, ShippingZone, TaxRate, Voucher, WeightBand

pytestmark = pytest.mark.django_db
D = Decimal
UK = {"email": "gale@example.com", "shipping_name": "Gale Guest", "shipping_line1": "1 High Street",
      "shipping_city": "London", "shipping_postcode": "SW1A 1AA", "shipping_country": "GB",
      "shipping_method": "standard"}


def text(response) -> str:
    """The page as a shopper reads it (entities such as &minus; decoded)."""
    return html.unescape(response.content.decode())


@pytest.fixture
def jacket():
    return VariantFactory(sku="MJ01-M", stock=50, price=D("60.00"), sale_price=D("57.00"), product__name="Jacket")


@pytest.fixture
def uk_shop(settings):
    """A UK shop: prices entered with 20 % VAT, free UK shipping over £50, SPRING10 for 10 % off."""
    settings.SHOP_CURRENCY, settings.SHOP_TAX_ORIGIN_COUNTRY = "GBP", "GB"
    settings.SHOP_PRICES_INCLUDE_TAX = settings.SHOP_DISPLAY_GROSS_PRICES = True  # entered and shown with VAT
    TaxRate.objects.create(country="GB", tax_class="standard", rate=D("0.20"), name="VAT")
    uk = ShippingZone.objects.create(name="UK", countries=["GB"])
    ShippingMethod.objects.create(zone=uk, code="standard", name="UK standard", price=D("4.95"), free_above=D("50"))
    return Voucher.objects.create(code="spring10", kind=Voucher.Kind.PERCENTAGE, value=D("10"))


def test_the_flat_rates_of_settings_became_a_worldwide_zone(settings):
    """make run ships as before: $5 standard, $15 express, to any country."""
    methods = {m.code: (m.name, m.price) for m in ShippingMethod.objects.filter(zone__countries=[])}
    assert methods == {code: (name, price) for code, (name, price) in settings.SHOP_SHIPPING_RATES.items()}
    order = place_paid_order(cart=cart_with((VariantFactory(price=D("52.00"), stock=3), 1)), customer=None,
                             details=checkout_details(shipping_country="AU"), idempotency_key="k1")
    assert (order.subtotal, order.shipping_price, order.tax_total, order.total) == (D("52"), D("5"), 0, D("57"))


def test_with_no_zone_at_all_the_settings_rates_still_ship():
    ShippingZone.objects.all().delete()
    order = services.place_order(cart=cart_with((VariantFactory(price=D("10.00"), stock=1), 1)), customer=None,
                                 details=checkout_details(shipping_method="express"), payment_provider="test",
                                 idempotency_key="z")
    assert (order.shipping_method_name, order.total) == ("Express delivery (next day)", D("25.00"))


def test_a_uk_order_with_spring10_stores_and_charges_what_the_engine_priced(client, jacket, uk_shop):
    client.post(reverse("orders:cart_add"), {"product": jacket.product_id, "variant": jacket.pk, "quantity": 1})
    cart_page = client.post(reverse("orders:cart_voucher"), {"code": " Spring10 "}, follow=True)
    assert "Voucher SPRING10 applied." in text(cart_page)
    assert "−£5.70" in text(cart_page)  # 10 % of the sale price £57.00, not of £60.00

    review = client.post(reverse("orders:checkout"), UK, follow=True)
    explanation = "£57.00 − 10% SPRING10 = £51.30 + UK standard £0.00 = £51.30, incl. 20% VAT £8.55"
    # The checkout's order summary is the engine's: line discount, discount row, free shipping, VAT.
    for page in (review, client.get(reverse("orders:checkout"))):
        summary = text(page)
        assert explanation in summary and "−£5.70 10% SPRING10" in summary
        assert "<small>SPRING10</small></dt><dd data-order-discount>−£5.70" in summary and "Includes VAT" in summary
    assert "Place order and continue to payment (£51.30)" in text(review)
    done = checkout_and_approve(client, review.context["form"]["idempotency_key"].value())
    order = Order.objects.get()
    assert order.status == Order.Status.PAID and "£51.30" in text(done)
    assert explanation in text(done) and "−£5.70 10% SPRING10" in text(done)  # the stored priced order
    assert (order.subtotal, order.discount_total, order.shipping_price, order.tax_total, order.total) == \
        (D("57.00"), D("5.70"), D("0.00"), D("8.55"), D("51.30"))
    line = order.lines.get()
    assert (line.unit_price, line.discount, line.discount_reason, line.tax_rate, line.tax) == \
        (D("57.00"), D("5.70"), "10% SPRING10", D("0.2000"), D("8.55"))
    assert order.payments.get().amount == D("51.30")  # the charge is the engine's total
    uk_shop.refresh_from_db()
    assert uk_shop.used_count == 1 and uk_shop.redemptions.get().order == order


def test_a_bad_code_in_the_cart_says_why_and_changes_nothing(client, jacket, uk_shop):
    client.post(reverse("orders:cart_add"), {"product": jacket.product_id, "variant": jacket.pk, "quantity": 1})
    Voucher.objects.create(code="OLD", kind="fixed", value=D("5"), ends_at=timezone.now())
    for code, reason in [("NOPE", "NOPE is not a valid code."), ("old", "OLD has expired."),
                         ("", "Enter a voucher code.")]:
        page = client.post(reverse("orders:cart_voucher"), {"code": code}, follow=True)
        assert reason in page.content.decode()
    assert "Discount" not in client.get(reverse("orders:cart")).content.decode()


def test_checkout_offers_only_methods_that_ship_to_the_address(client, jacket):
    ShippingZone.objects.all().delete()
    uk = ShippingZone.objects.create(name="UK", countries=["GB"])
    ShippingMethod.objects.create(zone=uk, code="standard", name="UK standard", price=D("4.95"))
    client.post(reverse("orders:cart_add"), {"product": jacket.product_id, "variant": jacket.pk, "quantity": 1})
    page = client.post(reverse("orders:checkout"), {**UK, "shipping_country": "FR"})
    assert page.status_code == 200 and "Sorry, we do not ship to FR yet." in page.content.decode()
    assert page.context["form"]["shipping_method"].field.choices == []
    uk_page = client.post(reverse("orders:checkout"), {**UK, "shipping_method": "express"})
    assert [code for code, _ in uk_page.context["form"]["shipping_method"].field.choices] == ["standard"]
    assert "This method does not deliver to GB; choose UK standard." in text(uk_page)
    assert "Sorry, we do not ship to US yet." in text(client.get(reverse("orders:checkout")))  # the default country


def test_weight_bands_price_heavy_parcels(jacket):
    world = ShippingZone.objects.get(countries=[])
    method = ShippingMethod.objects.create(zone=world, code="weighed", name="By weight")
    WeightBand.objects.create(method=method, up_to=D("1"), price=D("3.00"))
    WeightBand.objects.create(method=method, up_to=D("10"), price=D("12.00"))
    jacket.weight = D("0.8")
    jacket.save()
    order = services.place_order(cart=cart_with((jacket, 2)), customer=None, payment_provider="test",
                                 details=checkout_details(shipping_method="weighed"), idempotency_key="w")
    assert order.shipping_price == D("12.00")  # 1.6 kg


@pytest.fixture
def ann():
    return UserFactory(email="ann@example.com")


def api_order(user, variant, key, **extra):
    client = APIClient()
    client.force_authenticate(user)
    body = {"items": [{"variant": variant.pk, "quantity": 1}], "shipping_method": "standard",
            "shipping_address": {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postcode": "62701",
                                 "region": "IL", "country": "US"}, **extra}
    return client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_the_api_takes_a_voucher_code_and_explains_the_price(ann, jacket):
    Voucher.objects.create(code="TENOFF", kind="fixed", value=D("10"), usage_limit_per_customer=1)
    response = api_order(ann, jacket, "a1", voucher_code="tenoff")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["subtotal"], body["discount_total"], body["total"], body["voucher_code"]) == \
        ("57.00", "10.00", "52.00", "TENOFF")
    assert body["price_explanation"] == "$57.00 − TENOFF = $47.00 + Standard delivery (3-5 days) $5.00 = $52.00"
    assert body["lines"][0]["discount"] == "10.00" and body["payment"]["amount"] == "52.00"

    again = api_order(ann, jacket, "a2", voucher_code="TENOFF")
    assert again.status_code == 400
    assert again.json()["fields"] == {"voucher_code": ["You have already used TENOFF."]}
    assert Order.objects.count() == 1


def test_the_api_refuses_an_unknown_code_with_its_reason(ann, jacket):
    response = api_order(ann, jacket, "b1", voucher_code="WHAT")
    assert response.status_code == 400 and response.json()["fields"] == {"voucher_code": ["WHAT is not a valid code."]}


def test_a_first_order_code_is_refused_to_a_returning_customer(ann, jacket):
    Voucher.objects.create(code="WELCOME", kind="free_shipping", new_customers_only=True)
    first = api_order(ann, jacket, "c1", voucher_code="WELCOME").json()
    assert (first["shipping_price"], first["discount_total"], first["total"]) == ("5.00", "5.00", "57.00")
    assert api_order(ann, jacket, "c2", voucher_code="WELCOME").json()["fields"] == \
        {"voucher_code": ["WELCOME is for a first order only."]}


def test_a_voided_order_gives_its_voucher_use_back(jacket):
    voucher = Voucher.objects.create(code="ONCE", kind="percentage", value=D("50"), usage_limit=1)
    cart = cart_with((jacket, 1))
    cart.voucher_code = "ONCE"
    cart.save()
    order = services.place_order(cart=cart, customer=None, details=checkout_details(), payment_provider="test",
                                 idempotency_key="v")
    voucher.refresh_from_db()
    assert voucher.used_count == 1 and order.total == D("33.50")
    services.void_order(order=order, reason="declined")
    voucher.refresh_from_db()
    assert voucher.used_count == 0
