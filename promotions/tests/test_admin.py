"""The pricing rules' admin pages as staff use them: a zone's countries and postcode rules are
checked as the API checks them; vouchers take products and categories, methods excluded products."""
import pytest
from django.urls import reverse

from accounts.models import User
from catalog.tests.factories import CategoryFactory, ProductFactory
from promotions.models import ShippingMethod, ShippingZone, Voucher

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(client):
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x-long-password-1"))
    return client


def zone_form(**fields) -> dict:
    return {"name": "Islands", "countries": '["gb"]', "postcode_prefixes": '["HS", "KW15-KW17"]', "position": "3",
            "methods-TOTAL_FORMS": "0", "methods-INITIAL_FORMS": "0", **fields}


def test_a_zone_with_a_bad_country_or_postcode_rule_is_refused_with_the_reason(boss):
    add = reverse("admin:promotions_shippingzone_add")
    page = boss.post(add, zone_form(countries='["GB", "UK"]', postcode_prefixes='["KW17-KW15"]'))
    assert page.status_code == 200
    assert page.context["adminform"].form.errors == {
        "countries": ["Not ISO 3166-1 alpha-2 country codes: UK (e.g. GB, IE)."],
        "postcode_prefixes": ["'KW17-KW15': the range's start is above its end."]}
    assert boss.post(add, zone_form()).status_code == 302
    assert ShippingZone.objects.get(name="Islands").countries == ["GB"]


def test_staff_limit_a_voucher_to_categories_and_a_method_to_products(boss):
    jackets, sofa = CategoryFactory(name="Jackets"), ProductFactory(name="Sofa")
    response = boss.post(reverse("admin:promotions_voucher_add"), {
        "code": "spring10", "kind": "percentage", "value": "10", "categories": [jackets.pk], "is_active": "on",
        "redemptions-TOTAL_FORMS": "0", "redemptions-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(Voucher.objects.get(code="SPRING10").categories.all()) == [jackets]
    method = ShippingMethod.objects.first()
    change = reverse("admin:promotions_shippingmethod_change", args=[method.pk])
    assert "Excluded products" in boss.get(change).content.decode()
    saved = boss.post(change, {"zone": method.zone_id, "code": method.code, "name": method.name, "price": "5.00",
                               "is_active": "on", "position": "0", "excluded_products": [sofa.pk],
                               "bands-TOTAL_FORMS": "0", "bands-INITIAL_FORMS": "0"})
    assert saved.status_code == 302 and list(method.excluded_products.all()) == [sofa]


def test_generate_codes_with_a_made_up_product_is_a_form_error_not_a_500(boss):
    response = boss.post(reverse("admin:promotions_voucher_generate"), {
        "count": "5", "kind": "percentage", "value": "10", "products": ["not-an-id", "999999"]})
    assert response.status_code == 200
    assert "not one of the available choices" in response.content.decode() or "valid value" in response.content.decode()
    assert not Voucher.objects.exists()
