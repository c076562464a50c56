"""Reads for the cart and order pages, each with a fixed number of queries."""
from dataclasses import dataclass, replace
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from catalog.selectors import primary_image_subquery
from giftcards import selectors as gift_card_reads
from giftcards.services import GiftCardCharge
from payments.models import Payment

from .models import Cart, CartLine, Order, OrderLine, OrderStatusChange
from . import pricing
from .pricing import PricedCart, display, price_cart
from .services import find_cart


def cart_item_count(request: HttpRequest) -> int:
    """Units in the shopper's cart, for the header badge (one query; none for a new guest)."""
    cart = find_cart(session=request.session, customer=request.user) if hasattr(request, "session") else None
    if cart is None:
        return 0
    return cart.lines.aggregate(units=Sum("quantity"))["units"] or 0


def cart_lines(cart: Cart | None) -> list[CartLine]:
    """The cart's lines with variant, product and the product's first image path."""
    if cart is None:
        return []
    return list(
        cart.lines.select_related("variant__product")
        .annotate(image_path=primary_image_subquery("variant__product"))
        .order_by("added_at", "pk")
    )


def cart_product_ids(cart: Cart | None) -> set[int]:
    """The ids of the products in the cart (shipping methods may exclude some); one query."""
    return set(cart.lines.values_list("variant__product_id", flat=True)) if cart is not None else set()


def priced_cart(cart: Cart | None, *, details=None, customer=None, country: str | None = None, postcode: str = "",
                shipping_method: str | None = None) -> tuple[list[CartLine], PricedCart]:
    """The cart's lines and the pricing engine's result for them (orders.pricing.price_cart): for
    checkout `details` (orders.services.CheckoutDetails: address, shipping method, email) when
    given, else for `country`/`postcode` by `shipping_method` (defaults: an estimate for the shop's
    own country with no shipping yet). The cart's voucher code is checked for `customer` (or the
    details' email); a code that cannot be used gives its reason in `voucher_error`. Raises
    UnknownShippingMethod when the method does not serve the address."""
    lines = cart_lines(cart)
    items = [(line.variant, line.quantity) for line in lines]
    code = cart.voucher_code if cart is not None else ""
    if details is not None:
        return lines, price_cart(items, country=details.shipping_country, postcode=details.shipping_postcode,
                                 shipping_method=details.shipping_method, voucher_code=code, customer=customer,
                                 email=details.email)
    return lines, price_cart(items, country=country, postcode=postcode, shipping_method=shipping_method,
                             voucher_code=code, customer=customer)


def customer_orders(customer) -> QuerySet[Order]:
    """A customer's orders, newest first, with their lines for item counts."""
    return Order.objects.filter(customer=customer).prefetch_related(Prefetch("lines"))


def has_delivered_line(*, customer, product_id: int) -> bool:
    """Whether `customer` has a delivered order with a line of product `product_id` (the
    "verified buyer" mark on reviews; refunded orders do not count). One query."""
    return OrderLine.objects.filter(order__customer=customer, order__status=Order.Status.DELIVERED,
                                    variant__product_id=product_id).exists()


def order_with_timeline(queryset: QuerySet[Order], **filters) -> Order | None:
    """One order from `queryset` with its lines and status history (who and when), or None."""
    return (queryset.filter(**filters)
            .prefetch_related("lines", Prefetch("status_changes",
                                                queryset=OrderStatusChange.objects.order_by("changed_at", "pk")))
            .first())
# Orders that count as money spent: placed and not cancelled or refunded.
NOT_SPENT_STATUSES = (Order.Status.CANCELLED, Order.Status.REFUNDED)


def customer_summary(customer) -> dict:
    """A customer's order figures (two queries): `count` (all orders), `total_spent` (Decimal in
    the shop currency: totals of orders not cancelled or refunded), `first_order_at` and
    `last_order` (the newest Order with its lines, or None)."""
    figures = Order.objects.filter(customer=customer).aggregate(
        count=Count("pk"),
        total_spent=Coalesce(Sum("total", filter=~Q(status__in=NOT_SPENT_STATUSES)), Decimal("0.00")),
        first_order_at=Min("created_at"),
    )
    figures["last_order"] = customer_orders(customer).order_by("-created_at", "-pk").first()
    return figures


def customers_with_figures() -> QuerySet:
    """Every customer (not staff) with `orders_count`, `total_spent`, `first_order_at` and
    `last_order_at` annotated, for staff lists (one query a page)."""
    return get_user_model().objects.filter(is_staff=False).annotate(
        orders_count=Count("orders"),
        total_spent=Coalesce(Sum("orders__total", filter=~Q(orders__status__in=NOT_SPENT_STATUSES)),
                             Decimal("0.00")),
        first_order_at=Min("orders__created_at"),
        last_order_at=Max("orders__created_at"),
    ).order_by("email", "pk")


# --- Order summaries: the checkout's side panel and the confirmation page -----------------------

@dataclass(frozen=True)
class SummaryLine:
    """One line of an order summary: what it is, its photo (`image_path`, a media path or ""),
    `url` (the product page, "" when the product is gone), and Decimal prices in the summary's
    currency as the pricing engine gave them: `line_total` before and `discount` (with its
    `discount_reason`, e.g. "10% SPRING10") off it."""

    name: str
    options_label: str
    image_path: str
    url: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    discount: Decimal = Decimal("0")
    discount_reason: str = ""


@dataclass(frozen=True)
class OrderSummary:
    """Lines and totals as a checkout step or a placed order shows them: the pricing engine's
    result (orders.pricing), for a cart now or as stored on a placed order, never recomputed.
    `discount` is the lines' voucher discount (`voucher_code`), `shipping_name`/`shipping_price`
    are "" and None until a shipping method is chosen, `shipping_discount` is what a free-shipping
    voucher takes off it, `tax` is added to the total unless `prices_include_tax` (then it is
    "included"), `tax_label` names it ("VAT"); `explanation` is the engine's price explanation and
    `voucher_error` why the cart's code gave nothing. Gift cards are a payment, not a discount:
    `gift_cards` is what each card pays (or paid) of the total, `to_pay` what is left for the
    payment provider, `gift_card_errors` why a card entered in the cart cannot pay. Money is
    Decimal in `currency`."""

    lines: list[SummaryLine]
    subtotal: Decimal
    shipping_name: str
    shipping_price: Decimal | None
    total: Decimal
    currency: str
    discount: Decimal = Decimal("0")
    voucher_code: str = ""
    shipping_discount: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    prices_include_tax: bool = False
    tax_label: str = "tax"
    explanation: str = ""
    voucher_error: str = ""
    gift_cards: list[GiftCardCharge] = ()
    to_pay: Decimal | None = None
    gift_card_errors: list[str] = ()

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


def cart_summary(cart: Cart | None, **pricing) -> OrderSummary:
    """The cart priced now by the engine (priced_cart, with its keyword arguments: `details` or
    `country`/`postcode`/`shipping_method`, and `customer`), two queries and the pricing rules'.
    Raises UnknownShippingMethod when the method does not serve the address."""
    lines, priced = priced_cart(cart, **pricing)
    shipping = priced.shipping
    cards = gift_card_reads.cart_plan(cart, priced.total) if shipping else gift_card_reads.GiftCardPlan()
    return OrderSummary(
        lines=[SummaryLine(name=line.variant.product.name, options_label=line.variant.options_label,
                           image_path=line.image_path or "", url=line.variant.product.get_absolute_url(),
                           quantity=p.quantity, unit_price=p.shown.unit_price, line_total=p.shown.line_total,
                           discount=p.shown.discount, discount_reason=p.discount_reason)
               for line, p in zip(lines, priced.lines, strict=True)],
        subtotal=priced.shown_subtotal, discount=priced.shown_goods_discount,
        voucher_code=priced.voucher.code if priced.voucher else "",
        shipping_name=shipping.name if shipping else "", shipping_price=shipping.shown.line_total if shipping else None,
        shipping_discount=shipping.shown.discount if shipping else Decimal("0"),
        tax=priced.tax, prices_include_tax=priced.policy.display_gross, tax_label=priced.policy.tax_label,
        total=priced.total, currency=priced.currency, explanation=priced.explanation if shipping else "",
        voucher_error=priced.voucher_error, gift_cards=cards.charges, to_pay=cards.to_pay if shipping else None,
        gift_card_errors=cards.errors)


def order_summary(order: Order) -> OrderSummary:
    """A placed order as the engine priced it when placed: its lines' snapshot prices and
    discounts (with the product's photo when it still exists) and its stored totals (one query)."""
    lines = (order.lines.select_related("variant__product")
             .annotate(image_path=primary_image_subquery("variant__product")).order_by("pk"))
    goods_discount = sum((line.discount for line in lines), Decimal("0"))
    cards = gift_card_reads.order_plan(order)
    # Shown as the shop shows prices now (with or without tax), from the amounts stored when placed.
    policy = replace(pricing.shop_policy(), currency=order.currency, prices_include_tax=order.prices_include_tax)
    shown = [display.shown_line(unit_price=line.unit_price, list_price=line.unit_price, line_total=line.line_total,
                                discount=line.discount, tax=line.tax, rate=line.tax_rate, policy=policy)
             for line in lines]
    shipping_discount = order.discount_total - goods_discount
    shipping = display.shown_line(unit_price=order.shipping_price, list_price=order.shipping_price,
                                  line_total=order.shipping_price, discount=shipping_discount,
                                  tax=order.shipping_tax, rate=Decimal("0"), policy=policy)
    return OrderSummary(
        lines=[SummaryLine(name=line.product_name, options_label=line.options_label,
                           image_path=line.image_path or "",
                           url=line.variant.product.get_absolute_url()
                           if line.variant and line.variant.product.is_visible else "",
                           quantity=line.quantity, unit_price=as_shown.unit_price, line_total=as_shown.line_total,
                           discount=as_shown.discount, discount_reason=line.discount_reason)
               for line, as_shown in zip(lines, shown, strict=True)],
        subtotal=sum((line.line_total for line in shown), Decimal("0")),
        discount=sum((line.discount for line in shown), Decimal("0")), voucher_code=order.voucher_code,
        shipping_name=order.shipping_method_name, shipping_price=shipping.line_total,
        shipping_discount=shipping.discount, tax=order.tax_total,
        prices_include_tax=policy.display_gross, total=order.total, currency=order.currency,
        explanation=order.price_explanation, gift_cards=cards.charges, to_pay=cards.to_pay)


@dataclass(frozen=True)
class PaymentState:
    """What a shopper is told about an order's payment. `code` is "paid", "processing" (waiting
    for the provider's webhook), "failed" (the last attempt failed or never started: retry),
    "refunded" or "cancelled"; `label` says it in words; `reference` is the provider's payment
    reference once paid ("" before); `payment` is the latest hosted-checkout attempt, or None."""

    code: str
    label: str
    reference: str
    payment: Payment | None


def payment_state(order: Order) -> PaymentState:
    """The payment of `order` as its shopper sees it (one query). Only the provider's webhook
    makes an order paid, so the return from the payment page alone shows "processing"."""
    payment = order.payments.filter(flow=Payment.Flow.CHECKOUT).order_by("-created_at", "-pk").first()
    if order.status in (Order.Status.PAID, Order.Status.FULFILLED, Order.Status.DELIVERED):
        code, label = "paid", "Paid"
    elif order.status == Order.Status.REFUNDED:
        code, label = "refunded", "Refunded"
    elif order.status == Order.Status.CANCELLED:
        code, label = "cancelled", "Not charged (order cancelled)"
    elif payment is None or payment.status in (Payment.Status.ERROR, Payment.Status.FAILED):
        code, label = "failed", "Not completed"
    else:
        code, label = "processing", "Processing"
    return PaymentState(code=code, label=label, reference=order.payment_reference, payment=payment)
