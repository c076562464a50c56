"""The order lifecycle: only legal moves, shipping needs tracking, refunds return stock, all recorded."""
import pytest

from accounts.tests.factories import UserFactory
from catalog.models import Variant
from catalog.tests.factories import VariantFactory
from orders import services
from orders.models import Order
from orders.tests.test_cancel import placed_order

pytestmark = pytest.mark.django_db
S = Order.Status


def test_shipping_needs_a_tracking_number_and_every_step_is_recorded():
    staff = UserFactory(is_staff=True)
    order = placed_order(VariantFactory(stock=4), 1)
    with pytest.raises(services.IllegalTransition, match="tracking number"):
        services.transition_order(order=order, to_status=S.FULFILLED, by=staff)
    services.transition_order(order=order, to_status=S.FULFILLED, by=staff, tracking_number=" 1Z999 ")
    services.transition_order(order=order, to_status=S.DELIVERED, by=staff)
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == (S.DELIVERED, "1Z999")
    steps = list(order.status_changes.values_list("from_status", "to_status", "changed_by"))
    assert steps == [("", S.PENDING_PAYMENT, None), (S.PENDING_PAYMENT, S.PAID, None),  # stock taken, then paid
                     (S.PAID, S.FULFILLED, staff.pk), (S.FULFILLED, S.DELIVERED, staff.pk)]


@pytest.mark.parametrize("path, illegal", [
    ([], S.DELIVERED),
    ([S.CANCELLED], S.PAID),
    ([S.FULFILLED], S.CANCELLED),
    ([S.REFUNDED], S.FULFILLED),
    ([], "lost"),
])
def test_illegal_moves_are_refused_and_change_nothing(path, illegal):
    order = placed_order(VariantFactory(stock=4), 1)
    for status in path:
        services.transition_order(order=order, to_status=status, tracking_number="T1")
    before = Order.objects.get(pk=order.pk).status
    with pytest.raises(services.IllegalTransition):
        services.transition_order(order=order, to_status=illegal, tracking_number="T1")
    assert Order.objects.get(pk=order.pk).status == before
    assert order.status_changes.count() == 2 + len(path)  # pending payment, paid, then the path


def test_refund_after_delivery_returns_stock_once():
    variant = VariantFactory(stock=5)
    order = placed_order(variant, 2)
    services.transition_order(order=order, to_status=S.FULFILLED, tracking_number="T1")
    services.transition_order(order=order, to_status=S.DELIVERED)
    assert Variant.objects.get(pk=variant.pk).stock == 3
    services.transition_order(order=order, to_status=S.REFUNDED)
    assert Variant.objects.get(pk=variant.pk).stock == 5
    assert services.allowed_transitions(Order.objects.get(pk=order.pk)) == []
