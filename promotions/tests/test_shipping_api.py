"""The staff shipping-zone API (/api/v1/shipping-zones/) through APIClient: a zone with its methods,
weight bands and excluded products in one body, what checkout then offers, clear 400s naming the
field for bad countries, postcode rules, negative prices and overlapping bands, and staff only."""
import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from orders.pricing import available_methods, shipping_method_for
from promotions.models import ShippingMethod, ShippingZone

pytestmark = pytest.mark.django_db
ZONES = "/api/v1/shipping-zones/"


@pytest.fixture
def staff() -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(is_staff=True))
    return client


def international(**overrides) -> dict:
    body = {"name": "Europe", "countries": ["fr", "DE"], "postcode_prefixes": [], "position": 1, "methods": [
        {"code": "parcel", "name": "Parcel by weight", "free_above": "150.00",
         "bands": [{"up_to": "5", "price": "12.00"}, {"up_to": "1", "price": "6.50"}]},
        {"code": "express", "name": "Express", "price": "25.00", "position": 1},
    ]}
    return {**body, **overrides}


def test_staff_set_up_weight_based_international_rates_in_one_body(staff):
    response = staff.post(ZONES, international(), format="json")
    assert response.status_code == 201, response.json()
    zone = response.json()
    assert zone["countries"] == ["FR", "DE"]
    parcel = zone["methods"][0]
    assert parcel["bands"] == [{"up_to": "1.000", "price": "6.50"}, {"up_to": "5.000", "price": "12.00"}]
    assert (parcel["price"], parcel["free_above"], parcel["excluded_products"]) == ("0.00", "150.00", [])
    assert [m.name for m in available_methods("FR")] == ["Parcel by weight", "Express"]
    assert "Europe" in [listed["name"] for listed in staff.get(ZONES).json()["results"]]
    assert staff.get(f"{ZONES}{zone['id']}/").json() == zone


def test_changing_a_zone_replaces_its_methods_and_bands_by_code(staff):
    sofa = ProductFactory(name="Sofa")
    zone = staff.post(ZONES, international(), format="json").json()
    express_id = zone["methods"][1]["id"]
    changed = staff.patch(f"{ZONES}{zone['id']}/", {"methods": [
        {"code": "express", "name": "Express (2 days)", "price": "22.00", "excluded_products": [sofa.pk]},
        {"code": "freight", "name": "Freight", "price": "90.00"},
    ]}, format="json")
    assert changed.status_code == 200, changed.json()
    methods = {m["code"]: m for m in changed.json()["methods"]}
    assert set(methods) == {"express", "freight"}  # the parcel method was left out: removed
    assert methods["express"]["id"] == express_id and methods["express"]["excluded_products"] == [sofa.pk]
    assert [m.name for m in available_methods("DE", product_ids={sofa.pk})] == ["Freight"]
    assert shipping_method_for("express", country="DE").price == 22
    nameless = staff.patch(f"{ZONES}{zone['id']}/", {"methods": [{"code": "post"}]}, format="json")
    assert nameless.status_code == 400 and nameless.json()["fields"] == {"methods.0.name": ["This field is required."]}
    renamed = staff.patch(f"{ZONES}{zone['id']}/", {"name": "EU"}, format="json")  # methods left as they are
    assert renamed.json()["name"] == "EU" and ShippingMethod.objects.filter(zone_id=zone["id"]).count() == 2
    assert staff.delete(f"{ZONES}{zone['id']}/").status_code == 204
    assert not ShippingZone.objects.filter(pk=zone["id"]).exists()


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"countries": ["GB", "XX", "France"]}, "countries",
     "Not ISO 3166-1 alpha-2 country codes: XX, FRANCE (e.g. GB, IE)."),
    ({"countries": "GB"}, "countries", "Expected list, not str."),
    ({"postcode_prefixes": ["BT9-BT1"]}, "postcode_prefixes", "'BT9-BT1': the range's start is above its end."),
    ({"methods": [{"code": "x", "name": "X", "price": "-1.00"}]}, "methods.0.price",
     "Ensure this value is greater than or equal to 0."),
    ({"methods": [{"code": "x", "name": "X", "free_above": "-5"}]}, "methods.0.free_above",
     "Ensure this value is greater than or equal to 0."),
    ({"methods": [{"code": "x", "name": "X", "bands": [{"up_to": "2", "price": "-3"}]}]}, "methods.0.bands.0.price",
     "Ensure this value is greater than or equal to 0."),
    ({"methods": [{"code": "x", "name": "X", "bands": [{"up_to": "2", "price": "3"}, {"up_to": "2.0", "price": "4"}]}]},
     "methods.0.bands", "Weight bands overlap: more than one ends at 2 kg. Each band covers the weights above the "
                        "band before it, up to its own limit."),
    ({"methods": [{"code": "x", "name": "X"}, {"code": "x", "name": "Y"}]}, "methods",
     "Each method's code is used once in a zone: x."),
    ({"methods": [{"code": "x", "name": "X", "excluded_products": [0]}]}, "methods.0.excluded_products",
     'Invalid pk "0" - object does not exist.'),
])
def test_bad_zones_get_a_400_naming_the_field(staff, change, field, message):
    response = staff.post(ZONES, international(**change), format="json")
    assert response.status_code == 400
    assert message in response.json()["fields"].get(field, []), response.json()
    assert not ShippingZone.objects.filter(name="Europe").exists()


def test_customers_cannot_see_or_change_zones():
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get(ZONES).status_code == 403
    assert client.post(ZONES, international(), format="json").status_code == 403
    assert APIClient().get(ZONES).status_code == 401
