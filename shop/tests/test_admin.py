"""The back office: every admin list and change page opens for staff, with data in it."""
import pytest
from django.urls import reverse

from accounts.models import User
from catalog.tests.factories import CategoryFactory, ProductImageFactory, ReviewFactory, VariantFactory
from orders.tests.factories import cart_with, checkout_details
from orders import services
from payments.testing import place_paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x"))
    return client


def test_every_admin_list_and_change_page_opens(staff_client):
    variant = VariantFactory(sku="MH01-M-Gray", stock=3)
    variant.product.categories.add(CategoryFactory())
    ProductImageFactory(product=variant.product)
    review = ReviewFactory(product=variant.product)
    order = place_paid_order(cart=cart_with((variant, 1)), customer=None, details=checkout_details(), idempotency_key="k")
    objects = {"catalog_category": variant.product.categories.get(), "catalog_product": variant.product,
               "catalog_variant": variant, "catalog_review": review, "orders_order": order,
               "accounts_user": User.objects.get()}
    for name, obj in objects.items():
        listing = staff_client.get(reverse(f"admin:{name}_changelist") + "?q=a")
        assert listing.status_code == 200, name
        assert staff_client.get(reverse(f"admin:{name}_change", args=[obj.pk])).status_code == 200, name
    orders_page = staff_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert order.number in orders_page and "guest" in orders_page
    product_page = staff_client.get(reverse("admin:catalog_product_change", args=[variant.product.pk]))
    assert "MH01-M-Gray" in product_page.content.decode() and "<img" in product_page.content.decode()


def test_stock_is_editable_from_the_variant_list(staff_client):
    variant = VariantFactory(stock=3)
    response = staff_client.post(reverse("admin:catalog_variant_changelist"), {
        "form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-0-id": variant.pk, "form-0-stock": 7, "_save": "Save"})
    assert response.status_code == 302
    variant.refresh_from_db()
    assert variant.stock == 7
    staff_client.post(reverse("admin:catalog_variant_changelist"), {
        "form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-0-id": variant.pk, "form-0-stock": -2, "_save": "Save"})
    variant.refresh_from_db()
    assert variant.stock == 7  # negative stock is refused with a form error
