"""Events recorded from signals: logins and registrations (buffered), and order events written in
the order's own transaction, derived from the Order and OrderStatusChange rows themselves (so
that losing the buffer can never lose them)."""
from django.contrib.auth.signals import user_logged_in
from django.core.signals import request_finished
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.services import user_registered
from orders.models import Order, OrderStatusChange

from . import events, refresh
from .models import Event


def _visitor(request) -> str:
    return getattr(request, "analytics_visitor", "") if request is not None else ""


@receiver(user_logged_in, dispatch_uid="analytics-user-login")
def on_login(sender, request, user, **kwargs):
    """A login, with the client's address (shop.observability.client_address) for the account's
    log-in history."""
    from shop.observability import client_address

    data = {"ip": client_address(request)} if request is not None else {}
    events.record(Event.Type.USER_LOGIN, user_id=user.pk, session_id=_visitor(request), data=data)


@receiver(user_registered, dispatch_uid="analytics-user-registered")
def on_registered(sender, user, request=None, **kwargs):
    events.record(Event.Type.USER_REGISTERED, user_id=user.pk, session_id=_visitor(request))


@receiver(post_save, sender=Order, dispatch_uid="analytics-order-created")
def on_order_created(sender, instance: Order, created: bool, raw: bool = False, **kwargs):
    """The order event, and its day's rollups refreshed once it commits (analytics.refresh)."""
    if created and not raw:
        events.record_now(Event.Type.ORDER_CREATED, user_id=instance.customer_id, at=instance.created_at,
                          data={"order_id": instance.pk, "number": instance.number, "total": str(instance.total),
                                "currency": instance.currency})
        refresh.request_refresh(refresh.day_of(instance.created_at))


@receiver(post_save, sender=OrderStatusChange, dispatch_uid="analytics-order-status-refresh")
def on_status_changed(sender, instance: OrderStatusChange, created: bool, raw: bool = False, **kwargs):
    """A later status change (cancelled, refunded...) refreshes the rollups of its day."""
    if created and not raw and instance.from_status:
        refresh.request_refresh(refresh.day_of(instance.changed_at))


@receiver(post_save, sender=OrderStatusChange, dispatch_uid="analytics-order-cancelled")
def on_order_cancelled(sender, instance: OrderStatusChange, created: bool, raw: bool = False, **kwargs):
    if created and not raw and instance.to_status == Order.Status.CANCELLED:
        events.record_now(Event.Type.ORDER_CANCELLED, user_id=instance.changed_by_id, at=instance.changed_at,
                          data={"order_id": instance.order_id, "from_status": instance.from_status})


@receiver(request_finished, dispatch_uid="analytics-flush")
def on_request_finished(sender, **kwargs):
    events.flush_if_due()
