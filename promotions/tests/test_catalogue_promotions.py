"""Catalogue promotions (issue 26): a percentage or amount off a category, product or variant for a
while, with no code. Listings, filters, sorting, the product page, the cart, checkout and the API
all sell at the promoted price; the best single rule wins and the price explanation names it; an
ended promotion or a changed price never sells at a stale promoted price; staff manage them in the
admin and at /api/v1/promotions/."""
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings as hypothesis_settings, strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from rest_framework.test import APIClient

from catalog.models import Product, Variant, selling_price
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from orders.pricing import Policy, VoucherInput, VoucherKind
from orders.pricing import price as engine_price
from orders.pricing.context import line_inputs
from orders.pricing.rounding import round_money
from promotions.models import Promotion, Voucher
from promotions.sales import apply_promotions

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_superuser(email="boss@example.com",
                                                                        password="x-long-password-1"))
    return client


@pytest.fixture
def shelf():
    """Men > Jackets holds a $100 jacket (sale price $88) and a $40 vest; Tees a $30 tee."""
    men = CategoryFactory(name="Men", slug="men", path="men")
    jackets = CategoryFactory(name="Jackets", slug="jackets", path="men/jackets", parent=men, depth=2)
    tees = CategoryFactory(name="Tees", slug="tees", path="men/tees", parent=men, depth=2)
    jacket = ProductFactory(name="Jacket", categories=[jackets])
    VariantFactory(product=jacket, sku="J-M", price=Decimal("100.00"), sale_price=Decimal("88.00"), stock=5)
    vest = ProductFactory(name="Vest", categories=[jackets])
    VariantFactory(product=vest, sku="V-M", price=Decimal("40.00"), stock=5)
    tee = ProductFactory(name="Tee", categories=[tees])
    VariantFactory(product=tee, sku="T-M", price=Decimal("30.00"), stock=5)
    return {"men": men, "jackets": jackets, "tees": tees, "jacket": jacket, "vest": vest, "tee": tee}


def promote(name, kind, value, *, categories=(), products=(), variants=(), **window) -> Promotion:
    promotion = Promotion.objects.create(name=name, kind=kind, value=Decimal(value), **window)
    promotion.categories.set(categories)
    promotion.products.set(products)
    promotion.variants.set(variants)
    apply_promotions()  # what saving it in the admin or the API does after commit
    return promotion


def price_of(sku: str) -> Decimal:
    return Variant.objects.get(sku=sku).unit_price


def test_the_best_single_rule_wins_and_the_sale_price_competes(shelf):
    promote("Spring sale", "percentage", "10", categories=[shelf["men"]])  # a category with those below it
    assert (price_of("J-M"), price_of("V-M"), price_of("T-M")) == (Decimal("88.00"), Decimal("36.00"),
                                                                   Decimal("27.00"))  # the jacket's sale price wins
    promote("Jacket deal", "fixed", "15", products=[shelf["jacket"]])
    jacket = Variant.objects.get(sku="J-M")
    assert (jacket.unit_price, jacket.price_reason) == (Decimal("85.00"), "Jacket deal $15.00 off")
    promote("Vest clearance", "percentage", "50", variants=[Variant.objects.get(sku="V-M")])
    assert (price_of("V-M"), Variant.objects.get(sku="V-M").price_reason) == (Decimal("20.00"),
                                                                              "Vest clearance 50% off")
    assert Variant.objects.get(sku="T-M").price_reason == "Spring sale 10% off"


def test_listing_filter_sort_product_page_and_api_use_the_promoted_price(client, shelf, settings):
    settings.SHOP_PAGE_CACHE_SECONDS = settings.SHOP_FACETS_CACHE_SECONDS = 0
    men = shelf["men"].get_absolute_url()
    before = client.get(f"{men}?sort=price").content.decode()  # cached fragments must not outlive the promotion
    assert "$24.00" not in before
    promote("Half-price tees", "percentage", "20", categories=[shelf["tees"]])
    promote("Vest deal", "fixed", "25", products=[shelf["vest"]])

    cards = client.get(f"{men}?sort=price").context["products"]
    assert [(c.name, c.price_from, c.on_sale) for c in cards] == [
        ("Vest", Decimal("15.00"), True), ("Tee", Decimal("24.00"), True), ("Jacket", Decimal("88.00"), True)]
    assert [c.name for c in client.get(f"{men}?max_price=20").context["products"]] == ["Vest"]
    assert [c.name for c in client.get(f"{men}?min_price=20&max_price=30").context["products"]] == ["Tee"]
    assert "$24.00" in client.get(f"{men}?sort=price").content.decode()

    page = client.get(shelf["tee"].get_absolute_url())
    assert page.context["picker"].price_from == Decimal("24.00") and page.context["picker"].on_sale
    assert "Half-price tees 20% off" in page.content.decode()

    api = APIClient().get("/api/v1/products/", {"ordering": "price", "max_price": "24"}).json()["results"]
    assert [(p["name"], p["price_from"]) for p in api] == [("Vest", "15.00"), ("Tee", "24.00")]
    [variant] = APIClient().get(f"/api/v1/products/{shelf['tee'].slug}/").json()["variants"]
    assert (variant["unit_price"], variant["price_reason"]) == ("24.00", "Half-price tees 20% off")


def test_a_voucher_applies_to_the_promoted_price_and_the_explanation_names_both(client, shelf):
    promote("Spring sale", "percentage", "10", categories=[shelf["tees"]])
    Voucher.objects.create(code="EXTRA10", kind="percentage", value=Decimal("10"))
    client.post(reverse("orders:cart_add"), {"product": shelf["tee"].pk, "quantity": 2})
    client.post(reverse("orders:cart_voucher"), {"code": "EXTRA10"})
    priced = client.get(reverse("orders:cart")).context["priced"]
    assert (priced.subtotal, priced.discount, priced.total) == (Decimal("54.00"), Decimal("5.40"), Decimal("48.60"))
    assert priced.explanation.startswith("$60.00 − Spring sale 10% off = $54.00 − 10% EXTRA10 = $48.60")


def test_a_promotion_runs_only_in_its_window(shelf):
    now = timezone.now()
    later = promote("Weekend", "percentage", "20", products=[shelf["tee"]], starts_at=now + timedelta(days=1),
                    ends_at=now + timedelta(days=3))
    assert price_of("T-M") == Decimal("30.00")  # not yet
    apply_promotions(now=later.starts_at + timedelta(seconds=1))  # beat, once it has started
    assert price_of("T-M") == Decimal("24.00")
    Promotion.objects.filter(pk=later.pk).update(starts_at=timezone.now() - timedelta(days=2),
                                                 ends_at=timezone.now() - timedelta(seconds=1))
    Variant.objects.filter(sku="T-M").update(promoted_until=timezone.now() - timedelta(seconds=1))
    # Ended: the rule stops selling at the promoted price at once, in Python and in SQL, before beat runs.
    assert price_of("T-M") == Decimal("30.00")
    assert Variant.objects.annotate(p=selling_price()).get(sku="T-M").p == Decimal("30.00")
    apply_promotions()
    assert Variant.objects.get(sku="T-M").promoted_price is None


def test_a_changed_price_never_sells_at_a_stale_promoted_price(shelf, django_capture_on_commit_callbacks):
    promote("Spring sale", "percentage", "10", products=[shelf["tee"]])
    tee = Variant.objects.get(sku="T-M")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tee.price = Decimal("50.00")
        tee.save()
    assert Variant.objects.get(sku="T-M").unit_price == Decimal("50.00")  # not 27.00, the old price's
    for callback in callbacks:  # after commit: the promotion is worked out on the new price
        callback()
    assert price_of("T-M") == Decimal("45.00")


def test_a_fixed_amount_never_makes_a_price_negative(shelf):
    promote("Giveaway", "fixed", "500", products=[shelf["tee"]])
    assert price_of("T-M") == Decimal("0.00")


def test_staff_manage_promotions_through_the_api(staff, shelf):
    created = staff.post("/api/v1/promotions/", {"name": "Summer", "kind": "percentage", "value": "20",
                                                 "categories": [shelf["jackets"].pk]}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["label"] == "Summer 20% off"
    # Saved through the API: the prices follow after commit (the test's transaction never commits).
    apply_promotions()
    assert (price_of("J-M"), price_of("V-M")) == (Decimal("80.00"), Decimal("32.00"))
    bad = staff.post("/api/v1/promotions/", {"name": "Too much", "kind": "percentage", "value": "120"}, format="json")
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["value"]
    backwards = staff.post("/api/v1/promotions/", {"name": "Backwards", "kind": "fixed", "value": "5",
                                                   "starts_at": "2027-01-02T00:00:00Z",
                                                   "ends_at": "2027-01-01T00:00:00Z"}, format="json")
    assert backwards.status_code == 400 and list(backwards.json()["fields"]) == ["ends_at"]
    url = f"/api/v1/promotions/{created.json()['id']}/"
    assert staff.delete(url).status_code == 204
    apply_promotions()
    assert price_of("V-M") == Decimal("40.00")
    assert APIClient().get("/api/v1/promotions/").status_code in (401, 403)


def test_staff_run_a_sale_from_the_admin(client, shelf):
    client.force_login(get_user_model().objects.create_superuser(email="boss@example.com",
                                                                 password="x-long-password-1"))
    url = reverse("admin:promotions_promotion_add")
    assert client.get(url).status_code == 200
    form = {"name": "Tee week", "kind": "percentage", "value": "150", "starts_at_0": "2026-01-01",
            "starts_at_1": "00:00:00", "is_active": "on", "products": [shelf["tee"].pk]}
    refused = client.post(url, form)
    assert refused.status_code == 200 and "A percentage is at most 100." in refused.content.decode()
    assert client.post(url, {**form, "value": "50"}).status_code == 302
    apply_promotions()  # after commit
    assert price_of("T-M") == Decimal("15.00")


class TestOneRule(HypothesisTestCase):
    """The price rule in SQL (selling_price) and in Python (Variant.unit_price) agree for any price,
    sale price, promoted price, base price and end."""

    @hypothesis_settings(max_examples=200, deadline=None)
    @given(price=st.decimals("0", "500", places=2), sale_cut=st.none() | st.decimals("0.01", "100", places=2),
           promoted=st.none() | st.decimals("0", "600", places=2), stale=st.booleans(),
           ends_in=st.none() | st.integers(60, 3600) | st.integers(-3600, -60))
    def test_sql_and_python_agree(self, price, sale_cut, promoted, stale, ends_in):
        sale = None if sale_cut is None or sale_cut >= price else price - sale_cut
        variant = VariantFactory(price=price, sale_price=sale, promoted_price=promoted,
                                 promotion_base_price=price + 1 if stale else price,
                                 promoted_until=None if ends_in is None else timezone.now() + timedelta(seconds=ends_in))
        in_sql = Variant.objects.annotate(p=selling_price()).get(pk=variant.pk).p
        assert in_sql == Variant.objects.get(pk=variant.pk).unit_price
        assert in_sql <= price
        product = Product.objects.filter(pk=variant.product_id)
        assert product.annotate(p=selling_price("variants__")).get().p == in_sql


def test_the_command_applies_what_is_running_without_a_worker(shelf):
    promotion = Promotion.objects.create(name="Flash", kind="fixed", value=Decimal("5"),
                                         starts_at=timezone.now() - timedelta(minutes=1))
    promotion.products.set([shelf["tee"]])  # saved; nothing has applied it yet
    assert price_of("T-M") == Decimal("30.00")
    out = io.StringIO()
    call_command("apply_promotions", stdout=out)
    assert (out.getvalue(), price_of("T-M")) == ("1 variant price(s) changed.\n", Decimal("25.00"))


def test_the_explanation_names_the_winning_rule_on_each_line(client, shelf):
    promote("Jacket week", "percentage", "10", categories=[shelf["jackets"]])  # the jacket's $88 sale price wins
    client.post(reverse("orders:cart_add"), {"product": shelf["jacket"].pk, "quantity": 1})
    client.post(reverse("orders:cart_add"), {"product": shelf["vest"].pk, "quantity": 1})
    priced = client.get(reverse("orders:cart")).context["priced"]
    assert priced.explanation.startswith("$140.00 − Jacket week 10% off, Sale = $124.00")


class TestVoucherOnThePromotedPrice(HypothesisTestCase):
    """Over random prices, promotions and percentage vouchers: the variant sells at the promotion's
    price (never above its price, never below zero), and a percentage voucher is computed on that
    promoted price, never on the regular one (saleor#17453, oscar#2893)."""

    @hypothesis_settings(max_examples=150, deadline=None)
    @given(price=st.decimals("0.01", "900", places=2), kind=st.sampled_from(["percentage", "fixed"]),
           value=st.decimals("0", "100", places=2), percent=st.decimals("1", "100", places=0),
           quantity=st.integers(1, 9))
    def test_a_percentage_voucher_applies_to_the_promoted_price(self, price, kind, value, percent, quantity):
        variant = VariantFactory(price=price, stock=100)
        promotion = Promotion.objects.create(name="Sale", kind=kind, value=value)
        promotion.variants.set([variant])
        apply_promotions(variant_ids=[variant.pk])
        variant = Variant.objects.select_related("product").get(pk=variant.pk)
        assert variant.unit_price == min(price, promotion.price_for(price)) >= 0
        cart = engine_price(line_inputs([(variant, quantity)]), policy=Policy(currency="USD"),
                            voucher=VoucherInput(code="PCT", kind=VoucherKind.PERCENTAGE, value=percent))
        assert cart.subtotal == variant.unit_price * quantity
        assert cart.goods_discount == round_money(variant.unit_price * quantity * percent / 100, "USD")
