"""The shopper's cart: find or create it, add and change lines, merge a guest cart at login.
orders.services re-exports all of these; the errors are the base of every checkout error.

Domain errors are named exceptions (subclasses of CheckoutError); views turn them into messages.
"""
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction

from catalog.models import Variant
from catalog.services import InsufficientStock
from promotions.models import Voucher
from promotions.services import usable_voucher

from .models import Cart, CartLine

SESSION_CART_KEY = "cart_id"


class CheckoutError(Exception):
    """Base for cart and checkout errors; the message is safe to show to the shopper."""


class EmptyCart(CheckoutError):
    """Checkout was asked to place an order for a cart with no lines."""


class InvalidQuantity(CheckoutError):
    """A quantity outside 1..settings.SHOP_CART_MAX_QUANTITY."""


class VariantUnavailable(CheckoutError):
    """The variant does not exist, is inactive, or its product is hidden."""


# --- Cart ------------------------------------------------------------------------------------

def find_cart(*, session: SessionBase, customer) -> Cart | None:
    """The shopper's cart if one exists: the customer's saved cart, else the session's guest cart."""
    if customer is not None and customer.is_authenticated:
        return Cart.objects.filter(customer=customer).first()
    cart_id = session.get(SESSION_CART_KEY)
    return Cart.objects.filter(pk=cart_id, customer__isnull=True).first() if cart_id else None


def get_or_create_cart(*, session: SessionBase, customer) -> Cart:
    """The shopper's cart, created on first use. A guest's cart id is kept in the session."""
    if customer is not None and customer.is_authenticated:
        return Cart.objects.get_or_create(customer=customer)[0]
    cart = find_cart(session=session, customer=None)
    if cart is None:
        cart = Cart.objects.create()
        session[SESSION_CART_KEY] = cart.pk
    return cart


def _buyable_variant(variant_id: int) -> Variant:
    variant = (
        Variant.objects.select_related("product")
        .filter(pk=variant_id, is_active=True, product__is_visible=True)
        .first()
    )
    if variant is None:
        raise VariantUnavailable("That product is no longer available.")
    return variant


def _check_quantity(quantity: int) -> None:
    limit = settings.SHOP_CART_MAX_QUANTITY
    if not 1 <= quantity <= limit:
        raise InvalidQuantity(f"Quantity must be between 1 and {limit}.")


@transaction.atomic
def add_to_cart(*, cart: Cart, variant_id: int, quantity: int = 1) -> CartLine:
    """Add `quantity` units of a variant to the cart (adding to an existing line).

    Raises VariantUnavailable, InvalidQuantity, or InsufficientStock when the cart would hold more
    units than are in stock now. Stock is only taken when the order is placed.
    """
    variant = _buyable_variant(variant_id)
    line = CartLine.objects.select_for_update().filter(cart=cart, variant=variant).first()
    new_quantity = quantity + (line.quantity if line else 0)
    _check_quantity(quantity)
    _check_quantity(new_quantity)
    if new_quantity > variant.stock:
        raise InsufficientStock(variant=variant, requested=new_quantity, available=variant.stock)
    if line is None:
        line = CartLine.objects.create(cart=cart, variant=variant, quantity=new_quantity)
    else:
        line.quantity = new_quantity
        line.save(update_fields=["quantity"])
    cart.save(update_fields=["updated_at"])
    return line


@transaction.atomic
def set_line_quantity(*, cart: Cart, variant_id: int, quantity: int) -> CartLine | None:
    """Set a cart line to `quantity` units; 0 removes the line. Returns the line, or None if removed.

    Raises InvalidQuantity, VariantUnavailable or InsufficientStock.
    """
    if quantity == 0:
        CartLine.objects.filter(cart=cart, variant_id=variant_id).delete()
        return None
    _check_quantity(quantity)
    variant = _buyable_variant(variant_id)
    if quantity > variant.stock:
        raise InsufficientStock(variant=variant, requested=quantity, available=variant.stock)
    line, _ = CartLine.objects.update_or_create(cart=cart, variant=variant, defaults={"quantity": quantity})
    return line


@transaction.atomic
def merge_guest_cart_into_customer_cart(*, session: SessionBase, customer) -> Cart | None:
    """Move the session's guest cart lines into the customer's cart and forget the guest cart.

    Quantities of the same variant add up, capped at the stock on hand and the per-line limit.
    Returns the customer's cart, or None when there was no guest cart.
    """
    guest = find_cart(session=session, customer=None)
    session.pop(SESSION_CART_KEY, None)
    if guest is None:
        return None
    cart = Cart.objects.get_or_create(customer=customer)[0]
    existing = {line.variant_id: line for line in cart.lines.select_for_update()}
    for line in guest.lines.select_related("variant"):
        target = existing.get(line.variant_id)
        wanted = line.quantity + (target.quantity if target else 0)
        capped = min(wanted, line.variant.stock, settings.SHOP_CART_MAX_QUANTITY)
        if capped <= 0:
            continue
        if target:
            target.quantity = capped
            target.save(update_fields=["quantity"])
        else:
            CartLine.objects.create(cart=cart, variant=line.variant, quantity=capped)
    guest.delete()
    return cart


def apply_voucher(*, cart: Cart, code: str, customer=None, remove: bool = False) -> Voucher | None:
    """Keep voucher `code` on the cart if the shopper may use it now (one voucher per order: it
    replaces any other), or take the cart's code off with `remove`. Returns the voucher, or None
    when removed. Raises promotions.services.VoucherNotApplicable with the reason (the cart keeps
    its previous code). Whether the goods reach the voucher's minimum is shown with the prices."""
    if remove:
        cart.voucher_code = ""
        cart.save(update_fields=["voucher_code", "updated_at"])
        return None
    voucher = usable_voucher(code, customer=customer)
    cart.voucher_code = voucher.code
    cart.save(update_fields=["voucher_code", "updated_at"])
    return voucher
