"""Bulk single-use codes as staff make them: the admin's "Generate codes" page and "Export codes
as CSV" action, and POST /api/v1/vouchers/bulk/; each code works once."""
import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from orders import services as orders_services
from orders.tests.factories import cart_with, checkout_details
from promotions.models import Voucher
from promotions.services import CODE_ALPHABET, InvalidVoucherBatch, generate_vouchers

pytestmark = pytest.mark.django_db
CODE = re.compile(rf"^XMAS-[{CODE_ALPHABET}]{{8}}$")


@pytest.fixture
def boss():
    return User.objects.create_superuser(email="boss@example.com", password="x-long-password-1")


def test_staff_generate_a_batch_in_the_admin_and_export_it_as_csv(client, boss):
    client.force_login(boss)
    changelist = reverse("admin:promotions_voucher_changelist")
    assert "Generate codes" in client.get(changelist).content.decode()
    assert client.get(reverse("admin:promotions_voucher_generate")).status_code == 200
    scarf = ProductFactory(name="Scarf")
    page = client.post(reverse("admin:promotions_voucher_generate"), {
        "prefix": "xmas-", "count": "25", "kind": "fixed", "value": "10.00", "min_subtotal": "30",
        "products": [scarf.pk],
        "starts_at_0": "2026-12-01", "starts_at_1": "00:00:00", "ends_at_0": "2026-12-26", "ends_at_1": "00:00:00"},
        follow=True)
    assert "Made 25 single-use codes starting XMAS-" in page.content.decode()
    made = list(Voucher.objects.all())
    assert len(made) == 25 and len({v.code for v in made}) == 25 and all(CODE.match(v.code) for v in made)
    assert {(v.usage_limit, v.kind, v.value, v.min_subtotal) for v in made} == {(1, "fixed", Decimal("10"),
                                                                                  Decimal("30"))}
    assert len(page.context["cl"].result_list) == 25  # the list shows the batch, searched by its prefix
    assert all(list(v.products.all()) == [scarf] for v in made)

    export = client.post(changelist, {"action": "export_csv", "_selected_action": [v.pk for v in made]})
    assert export["Content-Type"].startswith("text/csv") and "attachment" in export["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert sorted(row["code"] for row in rows) == sorted(v.code for v in made)
    assert {(row["usage_limit"], row["used_count"], row["value"]) for row in rows} == {("1", "0", "10.00")}
    assert rows[0]["ends_at"].startswith("2026-12-26")


def test_the_generate_form_says_what_is_wrong(client, boss):
    client.force_login(boss)
    page = client.post(reverse("admin:promotions_voucher_generate"),
                       {"prefix": "bad prefix!", "count": "0", "kind": "percentage", "value": "150"})
    assert page.status_code == 200 and set(page.context["form"].errors) == {"prefix", "count", "value"}
    assert "A percentage is at most 100." in page.content.decode() and not Voucher.objects.exists()


def test_a_generated_code_works_once(client):
    code = generate_vouchers(prefix="ONE", count=1, kind="percentage", value=Decimal("50"))[0].code
    variant = VariantFactory(price=Decimal("20.00"), stock=5)
    placed = []
    for key in ("first", "second"):
        cart = cart_with((variant, 1))
        cart.voucher_code = code
        cart.save()
        try:
            placed.append(orders_services.place_order(cart=cart, customer=None, details=checkout_details(),
                                                      payment_provider="test", idempotency_key=key))
        except orders_services.VoucherNotApplicable as problem:
            assert str(problem) == f"{code} has been used up."
    assert [order.discount_total for order in placed] == [Decimal("10.00")]


def test_codes_never_repeat_and_the_service_refuses_a_bad_batch():
    first = {v.code for v in generate_vouchers(prefix="", count=300, kind="free_shipping")}
    assert len(first) == 300 and not any(ch in code for code in first for ch in "01ILO")
    with pytest.raises(InvalidVoucherBatch) as refused:
        generate_vouchers(prefix="X", count=5, kind="fixed", value=Decimal("5"),
                          starts_at=datetime(2026, 12, 2, tzinfo=UTC), ends_at=datetime(2026, 12, 1, tzinfo=UTC))
    assert refused.value.errors == {"ends_at": "Must be after starts_at."}


def test_staff_generate_codes_through_the_api():
    staff = APIClient()
    staff.force_authenticate(UserFactory(is_staff=True))
    jackets = CategoryFactory(name="Jackets")
    response = staff.post("/api/v1/vouchers/bulk/", {"prefix": "xmas-", "count": 3, "kind": "percentage",
                                                     "value": "15", "categories": [jackets.pk],
                                                     "ends_at": "2026-12-26T00:00:00Z"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["count"] == 3 and all(CODE.match(code) for code in body["codes"])
    made = Voucher.objects.filter(code__in=body["codes"])
    assert [(v.usage_limit, list(v.categories.all())) for v in made] == [(1, [jackets])] * 3
    for bad, field in [({"count": 0}, "count"), ({"count": 10_001}, "count"), ({"value": "101"}, "value"),
                       ({"prefix": "no spaces"}, "prefix"), ({"kind": "half"}, "kind"),
                       ({"products": [0]}, "products")]:
        refused = staff.post("/api/v1/vouchers/bulk/", {"count": 2, "kind": "percentage", "value": "5", **bad},
                             format="json")
        assert refused.status_code == 400 and field in refused.json()["fields"], (bad, refused.json())
    customer = APIClient()
    customer.force_authenticate(UserFactory())
    assert customer.post("/api/v1/vouchers/bulk/", {"count": 1, "kind": "fixed"}, format="json").status_code == 403
    assert Voucher.objects.count() == 3
