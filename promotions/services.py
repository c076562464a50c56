"""Voucher rules that need the database: whether a code may be used now by this shopper, and
counting its use under a row lock when an order is placed (so that a 10-use code gives exactly 10
discounted orders however many checkouts race for it)."""
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .models import Voucher, VoucherRedemption
from .selectors import find_voucher


class VoucherNotApplicable(Exception):
    """The code cannot be used (unknown, not yet or no longer valid, used up, not for this
    shopper). The message is the reason, safe to show to the shopper."""


def check_voucher(voucher: Voucher | None, *, code: str, customer=None, email: str = "",
                  now: datetime | None = None) -> Voucher:
    """`voucher` if the shopper (customer or guest `email`) may use it at `now`; else raises
    VoucherNotApplicable with the reason. Usage counts read here are advisory: redeem_voucher
    checks them again under the row lock. (The minimum subtotal is the engine's to check.)"""
    shown = (code or "").strip().upper()
    if voucher is None or not voucher.is_active:
        raise VoucherNotApplicable(f"{shown} is not a valid code.")
    now = now or timezone.now()
    if voucher.starts_at and now < voucher.starts_at:
        raise VoucherNotApplicable(f"{voucher.code} is not valid yet.")
    if voucher.ends_at and now >= voucher.ends_at:
        raise VoucherNotApplicable(f"{voucher.code} has expired.")
    if voucher.usage_limit is not None and voucher.used_count >= voucher.usage_limit:
        raise VoucherNotApplicable(f"{voucher.code} has been used up.")
    customer = customer if customer is not None and customer.is_authenticated else None
    if voucher.usage_limit_per_customer is not None and (customer or email):
        used = _uses_by(voucher, customer=customer, email=email)
        if used >= voucher.usage_limit_per_customer:
            raise VoucherNotApplicable(f"You have already used {voucher.code}.")
    if voucher.new_customers_only and _has_ordered(customer=customer, email=email):
        raise VoucherNotApplicable(f"{voucher.code} is for a first order only.")
    return voucher


def usable_voucher(code: str, *, customer=None, email: str = "", now: datetime | None = None) -> Voucher:
    """The voucher for `code` if usable now (check_voucher); raises VoucherNotApplicable."""
    return check_voucher(find_voucher(code), code=code, customer=customer, email=email, now=now)


def lock_voucher(code: str, *, customer=None, email: str = "") -> Voucher:
    """Lock the voucher row for `code` (SELECT ... FOR UPDATE, in the caller's transaction) and
    check it again with the counts as they are now. Raises VoucherNotApplicable."""
    voucher = Voucher.objects.select_for_update().filter(code=(code or "").strip().upper()).first()
    return check_voucher(voucher, code=code, customer=customer, email=email)


def redeem_voucher(*, voucher: Voucher, order, customer=None, email: str = "") -> VoucherRedemption:
    """Count one use of `voucher` (locked by lock_voucher in this transaction) by `order`."""
    voucher.used_count += 1
    voucher.save(update_fields=["used_count"])
    customer = customer if customer is not None and customer.is_authenticated else None
    return VoucherRedemption.objects.create(voucher=voucher, order=order, customer=customer, email=email)


@transaction.atomic
def release_voucher(*, order) -> None:
    """Give back the use of a voucher by `order` (voided unpaid): the code may be used again."""
    redemption = VoucherRedemption.objects.filter(order=order).first()
    if redemption is None:
        return
    voucher = Voucher.objects.select_for_update().get(pk=redemption.voucher_id)
    redemption.delete()
    voucher.used_count = max(voucher.used_count - 1, 0)
    voucher.save(update_fields=["used_count"])


def _uses_by(voucher: Voucher, *, customer, email: str) -> int:
    uses = VoucherRedemption.objects.filter(voucher=voucher)
    return (uses.filter(customer=customer) if customer else uses.filter(email__iexact=email)).count()


def _has_ordered(*, customer, email: str) -> bool:
    from django.apps import apps

    orders = apps.get_model("orders", "Order").objects.exclude(status="cancelled")
    if customer is not None:
        return orders.filter(customer=customer).exists()
    return bool(email) and orders.filter(email__iexact=email).exists()
