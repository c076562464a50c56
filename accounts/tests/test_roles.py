"""The permission matrix of the staff roles (groups made by a data migration), one test per
group, through the admin and the staff pages as a staff member would use them."""
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from catalog.models import Review
from catalog.tests.factories import ReviewFactory, VariantFactory
from orders.models import Order
from orders.tests.test_cancel import placed_order

pytestmark = pytest.mark.django_db

# Admin pages (URL name, args) and the role that may see them.
CATALOGUE = ["admin:catalog_product_changelist", "admin:catalog_variant_changelist", "admin:catalog_review_changelist",
             "admin:catalog_category_changelist", "admin:catalog_product_add"]
ORDERS = ["admin:orders_order_changelist", "admin:accounts_user_changelist"]
DASHBOARD = "analytics:staff_dashboard"


def staff_in(client, role: str) -> User:
    user = User.objects.create_user(email=f"{role.split()[0].lower()}@example.com", password="staff-pass-123",
                                    is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def status(client, name, *args) -> int:
    return client.get(reverse(name, args=args)).status_code


def test_roles_are_created_by_the_migration():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Catalogue managers", "Order managers", "Analysts"}


def test_catalogue_managers_edit_products_stock_and_reviews_only(client):
    staff_in(client, "Catalogue managers")
    assert [status(client, name) for name in CATALOGUE] == [200] * len(CATALOGUE)
    assert [status(client, name) for name in ORDERS] == [403] * len(ORDERS)
    assert status(client, DASHBOARD) == 403
    variant = VariantFactory(stock=0)
    page = client.get(reverse("admin:catalog_variant_change", args=[variant.pk])).content.decode()
    assert 'name="stock"' in page  # can restock
    review = ReviewFactory(product=variant.product, status=Review.Status.PENDING)
    client.post(reverse("admin:catalog_review_changelist"), {"action": "approve", "_selected_action": [review.pk]})
    assert Review.objects.get(pk=review.pk).status == Review.Status.APPROVED


def test_order_managers_handle_orders_and_customers_only(client):
    user = staff_in(client, "Order managers")
    order = placed_order(VariantFactory(stock=3), 1)
    customer = UserFactory()
    assert [status(client, name) for name in ORDERS] == [200] * len(ORDERS)
    assert status(client, "admin:orders_order_change", order.pk) == 200
    assert [status(client, name) for name in CATALOGUE] == [403] * len(CATALOGUE)
    assert status(client, DASHBOARD) == 403
    client.post(reverse("admin:orders_order_changelist"), {"action": "cancel_orders", "_selected_action": [order.pk]})
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    # A customer's details can be edited, but nobody's staff status, roles or permissions.
    page = client.get(reverse("admin:accounts_user_change", args=[customer.pk])).content.decode()
    assert 'name="first_name"' in page and 'name="is_superuser"' not in page and 'name="groups"' not in page
    client.post(reverse("admin:accounts_user_change", args=[user.pk]), {
        "email": user.email, "first_name": "Sneaky", "last_name": "", "country": "", "is_superuser": "on",
        "groups": [Group.objects.get(name="Catalogue managers").pk], "addresses-TOTAL_FORMS": "0",
        "addresses-INITIAL_FORMS": "0", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    user.refresh_from_db()
    assert user.first_name == "Sneaky"  # the edit itself went through...
    assert not user.is_superuser and list(user.groups.values_list("name", flat=True)) == ["Order managers"]


def test_analysts_see_the_dashboard_only(client):
    staff_in(client, "Analysts")
    assert status(client, DASHBOARD) == 200
    assert [status(client, name) for name in CATALOGUE + ORDERS] == [403] * len(CATALOGUE + ORDERS)


def test_customers_and_staff_without_a_role_get_nothing(client):
    client.force_login(UserFactory())
    assert status(client, DASHBOARD) == 302  # to the admin login
    assert client.get(reverse("admin:index")).status_code == 302
    client.force_login(User.objects.create_user(email="norole@example.com", password="x-long-pass-1", is_staff=True))
    assert status(client, DASHBOARD) == 403
    assert [status(client, name) for name in CATALOGUE + ORDERS] == [403] * len(CATALOGUE + ORDERS)
