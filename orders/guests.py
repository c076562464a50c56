"""What passes from a guest to the customer they become (re-exported by orders.services).

A guest's orders carry only an email. Once an account proves that email is its own (the
verification link, accounts.services.verify_email), the guest orders placed with it become the
account's: they show under "Your orders", with their tracking and reviews. Not before: signing up
with somebody else's address must not show their orders. Saleor does the same on account
confirmation (`match_orders_with_new_user`).
"""
from .models import Order


def attach_guest_orders(*, customer) -> int:
    """Give `customer` (a User whose email is verified) every order placed as a guest with their
    email, in any case ("Ann@Example.com" is ann@example.com). Orders of other customers are never
    moved. Returns how many were attached."""
    if not customer.email:
        return 0
    return Order.objects.filter(customer__isnull=True, email__iexact=customer.email).update(customer=customer)
