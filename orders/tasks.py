"""Celery tasks of orders: the order emails (confirmation, shipped, cancelled, refunded)."""
from celery import shared_task

from shop.mail import EMAIL_TASK_OPTIONS

from . import emails
from .models import Order


@shared_task(**EMAIL_TASK_OPTIONS)
def send_order_email(self, order_id: int, kind: str) -> None:
    """Send the `kind` email of order `order_id` (see orders.emails.ORDER_EMAILS). A deleted
    order sends nothing; network and SMTP errors are retried with backoff."""
    order = Order.objects.filter(pk=order_id).first()
    if order is not None:
        emails.send_order_email(order=order, kind=kind)
