"""The staff voucher API through APIClient: the field names integrators script against, null for
no limit, clear 400s for bad values, and staff only."""
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from promotions.models import TaxRate, Voucher

pytestmark = pytest.mark.django_db
VOUCHERS = "/api/v1/vouchers/"
TAX_RATES = "/api/v1/tax-rates/"


@pytest.fixture
def staff() -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.create_superuser(email="boss@example.com", password="x-long-password-1"))
    return client


def test_staff_create_spring10_with_the_documented_names(staff):
    body = {"code": "spring10", "kind": "percentage", "value": "10", "usage_limit": 100,
            "usage_limit_per_customer": None, "min_subtotal": None, "starts_at": "2026-03-01T00:00:00Z",
            "ends_at": "2026-03-08T00:00:00Z"}
    response = staff.post(VOUCHERS, body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["code"], created["value"], created["usage_limit_per_customer"], created["used_count"]) == \
        ("SPRING10", "10.00", None, 0)
    assert Voucher.objects.get().usage_limit == 100
    listed = staff.get(VOUCHERS).json()
    assert [v["code"] for v in listed["results"]] == ["SPRING10"]
    changed = staff.patch(f"{VOUCHERS}{created['id']}/", {"is_active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["is_active"] is False


@pytest.mark.parametrize(("body", "field"), [
    ({"code": "BIG", "kind": "percentage", "value": "150"}, "value"),
    ({"code": "BAD CODE", "kind": "fixed", "value": "5"}, "code"),
    ({"code": "X", "kind": "bogus"}, "kind"),
    ({"code": "X", "kind": "fixed", "value": "-1"}, "value"),
    ({"code": "X", "kind": "fixed", "usage_limit": 0}, "usage_limit"),
    ({"code": "X", "kind": "fixed", "starts_at": "2026-03-08T00:00:00Z", "ends_at": "2026-03-01T00:00:00Z"},
     "ends_at"),
    ({"code": "TAKEN", "kind": "fixed"}, "code"),
])
def test_bad_vouchers_get_a_400_naming_the_field(staff, body, field):
    Voucher.objects.create(code="taken", kind="fixed")
    response = staff.post(VOUCHERS, body, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()


def test_the_limit_cannot_go_below_the_uses_counted(staff):
    voucher = Voucher.objects.create(code="USED", kind="fixed", value=5, usage_limit=10, used_count=3)
    response = staff.patch(f"{VOUCHERS}{voucher.pk}/", {"usage_limit": 2}, format="json")
    assert response.status_code == 400 and response.json()["fields"] == {"usage_limit": ["Already used 3 times."]}


def test_customers_cannot_see_or_make_vouchers():
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get(VOUCHERS).status_code == 403
    assert client.post(VOUCHERS, {"code": "FREE", "kind": "fixed", "value": "999"}, format="json").status_code == 403
    assert APIClient().get(VOUCHERS).status_code == 401


def test_staff_set_uk_vat_and_a_second_standard_rate_is_refused(staff):
    response = staff.post(TAX_RATES, {"country": "gb", "tax_class": "standard", "rate": "0.2000", "name": "VAT"},
                          format="json")
    assert response.status_code == 201 and response.json()["country"] == "GB"
    assert TaxRate.objects.get().rate == Decimal("0.2")
    again = staff.post(TAX_RATES, {"country": "GB", "tax_class": "standard", "rate": "0.1"}, format="json")
    assert again.status_code == 400 and again.json()["fields"] == {"tax_class": ["GB has a standard rate already."]}
    assert staff.post(TAX_RATES, {"country": "GB", "tax_class": "reduced", "rate": "1.5"},
                      format="json").json()["fields"].keys() == {"rate"}
