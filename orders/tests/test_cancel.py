"""Cancelling an order puts its stock back; only unshipped orders can be cancelled."""
import pytest
from django.urls import reverse

from accounts.models import User
from catalog.models import Variant
from catalog.tests.factories import VariantFactory
from orders import services
from orders.models import Order
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order

pytestmark = pytest.mark.django_db


def placed_order(variant, quantity):
    return place_paid_order(cart=cart_with((variant, quantity)), customer=None, details=checkout_details(),
                                idempotency_key=f"cancel-{variant.pk}")


def test_cancel_returns_stock_once():
    variant = VariantFactory(stock=5)
    order = placed_order(variant, 3)
    assert Variant.objects.get(pk=variant.pk).stock == 2
    services.cancel_order(order=order)
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert Variant.objects.get(pk=variant.pk).stock == 5
    with pytest.raises(services.IllegalTransition, match="cannot be cancelled"):
        services.cancel_order(order=order)
    assert Variant.objects.get(pk=variant.pk).stock == 5


def test_admin_cancel_action_calls_the_service(client):
    variant = VariantFactory(stock=5)
    order = placed_order(variant, 2)
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x"))
    response = client.post(reverse("admin:orders_order_changelist"),
                           {"action": "cancel_orders", "_selected_action": [order.pk]}, follow=True)
    assert "Cancelled 1 order(s)" in response.content.decode()
    assert Variant.objects.get(pk=variant.pk).stock == 5
    Order.objects.filter(pk=order.pk).update(status=Order.Status.FULFILLED)
    response = client.post(reverse("admin:orders_order_changelist"),
                           {"action": "cancel_orders", "_selected_action": [order.pk]}, follow=True)
    assert "cannot be cancelled" in response.content.decode()
