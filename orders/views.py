"""Cart, checkout and order history pages. Each POST validates a form, calls one service and
redirects with a message; domain errors become messages, never 500s."""
import uuid
from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from catalog.selectors import VariantChoiceError, choose_variant
from giftcards import selectors as gift_card_reads
from giftcards import services as gift_cards

from payments import services as payments
from payments.models import Payment
from payments.providers import active_code
from shop.observability import client_address
from shop.templatetags.shop import money

from . import emails, selectors, services
from .addresses import country_hints
from .forms import AddToCartForm, CartLineForm, CheckoutDetailsForm, GiftCardForm, PaymentForm, VoucherForm
from .models import Order
from .pricing import shipping_rates

CHECKOUT_SESSION_KEY = "checkout_details"
PLACED_ORDERS_SESSION_KEY = "placed_orders"  # order numbers this browser may see as a guest


def _cart(request: HttpRequest, *, create: bool = False):
    if create:
        return services.get_or_create_cart(session=request.session, customer=request.user)
    return services.find_cart(session=request.session, customer=request.user)


def _back(request: HttpRequest, fallback: str) -> str:
    referer = request.headers.get("referer", "")
    return referer if referer.startswith(request.build_absolute_uri("/")) else fallback


def cart_detail(request: HttpRequest) -> HttpResponse:
    """/cart/: lines with current prices, quantity controls, the voucher code and the totals."""
    cart = _cart(request)
    lines, priced = selectors.priced_cart(cart, customer=request.user)
    rows = list(zip(lines, priced.lines, strict=True))
    return render(request, "orders/cart.html", {"rows": rows, "priced": priced, "cart": cart,
                                                "voucher_form": VoucherForm(),
                                                "gift_card_cards": gift_card_reads.cart_cards(cart)})


@require_POST
def cart_gift_card(request: HttpRequest) -> HttpResponse:
    """Add the posted gift card code to the cart to pay with at checkout (or take card `remove`
    off), then back to the cart with the reason when it cannot pay. With htmx, only the cart's gift
    card panel comes back, with the outcome in it."""
    form, cart, done, problem = GiftCardForm(request.POST), _cart(request), "", ""
    if cart is None or not form.is_valid():
        problem = "Add something to your cart first." if cart is None else "Enter a gift card code."
    else:
        try:
            if form.cleaned_data["remove"]:
                gift_cards.remove_from_cart(cart=cart, card_id=form.cleaned_data["remove"])
                done = "Gift card removed."
            else:
                card = gift_cards.add_to_cart(cart=cart, code=form.cleaned_data["code"],
                                             client=client_address(request))
                done = f"Gift card {card.masked_code} added: it pays up to {money(card.balance, card.currency)} at checkout."
        except gift_cards.GiftCardError as error:
            problem = str(error)
    if request.htmx:
        return render(request, "orders/_gift_card_form.html", {
            "cart": cart, "gift_card_cards": gift_card_reads.cart_cards(cart), "gift_card_done": done,
            "gift_card_error": problem, "gift_card_code": form.data.get("code", "") if problem else ""})
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, done)
    return redirect("orders:cart")


@require_POST
def cart_voucher(request: HttpRequest) -> HttpResponse:
    """Apply the posted voucher code to the cart (or remove it with "remove"), then back to the cart
    with the reason when it cannot be used."""
    form = VoucherForm(request.POST)
    cart = _cart(request)
    if cart is None or not form.is_valid():
        messages.error(request, "Add something to your cart first." if cart is None else "Enter a voucher code.")
        return redirect("orders:cart")
    try:
        voucher = services.apply_voucher(cart=cart, code=form.cleaned_data["code"], customer=request.user,
                                         remove="remove" in request.POST)
    except services.VoucherNotApplicable as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Voucher {voucher.code} applied." if voucher else "Voucher removed.")
    return redirect("orders:cart")


def mini_cart(request: HttpRequest) -> HttpResponse:
    """/cart/mini/: the cart's lines and subtotal as the header's cart drawer shows them (an htmx
    fragment; without JavaScript the header's cart link goes to /cart/ instead)."""
    lines, priced = selectors.priced_cart(_cart(request), customer=request.user)
    rows = list(zip(lines, priced.lines, strict=True))
    return render(request, "orders/_mini_cart.html", {"rows": rows, "priced": priced})


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    """Add the chosen variant to the cart, then go to the cart (or back with the reason why not)."""
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a quantity between 1 and the limit, then try again.")
        return redirect(_back(request, reverse("home")))
    data = form.cleaned_data
    try:
        variant = choose_variant(product_id=data["product"], variant_id=data["variant"],
                                 size=data["size"], colour=data["colour"])
        services.add_to_cart(cart=_cart(request, create=True), variant_id=variant.pk, quantity=data["quantity"])
    except (VariantChoiceError, *services.SHOPPER_ERRORS) as error:
        messages.error(request, str(error))
        return redirect(_back(request, reverse("home")))
    messages.success(request, f"Added {data['quantity']} x {variant.product.name}"
                              f"{' (' + variant.options_label + ')' if variant.options_label else ''} to your cart.")
    return redirect("orders:cart")


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    """Change a line's quantity (0 removes it)."""
    form = CartLineForm(request.POST)
    cart = _cart(request)
    if not form.is_valid() or cart is None:
        messages.error(request, "That quantity is not valid.")
        return redirect("orders:cart")
    try:
        services.set_line_quantity(cart=cart, variant_id=form.cleaned_data["variant"],
                                   quantity=form.cleaned_data["quantity"])
    except services.SHOPPER_ERRORS as error:
        messages.error(request, str(error))
    return redirect("orders:cart")


def checkout_details(request: HttpRequest) -> HttpResponse:
    """/checkout/: contact, address (checked per country) and a shipping method serving it, kept in
    the session for the review step, beside the order summary priced by the engine for the
    address's country with the chosen (or first offered) method."""
    cart = _cart(request)
    initial = request.session.get(CHECKOUT_SESSION_KEY) or {
        "email": getattr(request.user, "email", ""), "shipping_method": shipping_rates()[0].code}
    # Saved addresses (issue 7): the default fills the form; ?address=<id> picks another one.
    addresses = list(request.user.addresses.all()) if request.user.is_authenticated else []
    chosen = next((a for a in addresses if str(a.pk) == request.GET.get("address")), None)
    if chosen is None and not request.session.get(CHECKOUT_SESSION_KEY):
        chosen = next((a for a in addresses if a.is_default_shipping), None)
    if chosen is not None:
        initial = {**initial, **chosen.as_checkout_initial()}
    form = CheckoutDetailsForm(request.POST or None, initial=initial, product_ids=selectors.cart_product_ids(cart))
    try:
        summary = selectors.cart_summary(cart, customer=request.user, **form.summary_pricing())
    except services.UnknownShippingMethod:  # e.g. too heavy for the method: priced without shipping
        summary = selectors.cart_summary(cart, customer=request.user)
    if not summary.lines:
        messages.info(request, "Your cart is empty.")
        return redirect("orders:cart")
    if request.method == "POST" and form.is_valid():
        request.session[CHECKOUT_SESSION_KEY] = form.cleaned_data
        return redirect("orders:checkout_review")
    return render(request, "orders/checkout_details.html",
                  {"form": form, "summary": summary, "addresses": addresses, "chosen_address": chosen,
                   "step": "details", "country_hints": country_hints()})


def checkout_review(request: HttpRequest) -> HttpResponse:
    """/checkout/review/: the order as it will be placed and "Continue to payment", which places
    the order (pending payment, stock held) and sends the shopper to the provider's hosted page.

    A hidden idempotency key ties every submit of this page to one order: a double click or a
    reload after posting returns the same order instead of a second one.
    """
    details_data = request.session.get(CHECKOUT_SESSION_KEY)
    cart = _cart(request)
    if not details_data:
        return redirect("orders:checkout")
    details = services.CheckoutDetails(**details_data)
    form = PaymentForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            order = services.place_order(cart=cart, customer=request.user, details=details,
                                         payment_provider=active_code(),
                                         idempotency_key=form.cleaned_data["idempotency_key"])
        except services.SHOPPER_ERRORS as error:
            messages.error(request, str(error))
            return redirect("orders:cart" if isinstance(error, (services.EmptyCart, services.VoucherNotApplicable,
                                                                services.GiftCardError))
                            else "orders:checkout_review")
        if order.number not in request.session.get(PLACED_ORDERS_SESSION_KEY, []):
            request.session[PLACED_ORDERS_SESSION_KEY] = [
                *request.session.get(PLACED_ORDERS_SESSION_KEY, [])[-19:], order.number]
        if order.status != Order.Status.PENDING_PAYMENT:
            return redirect("orders:confirmation", number=order.number)
        return start_checkout_payment(request, order)
    try:
        summary = selectors.cart_summary(cart, details=details, customer=request.user)
    except services.UnknownShippingMethod as error:
        messages.error(request, str(error))
        return redirect("orders:checkout")
    if not summary.lines:
        messages.info(request, "Your cart is empty.")
        return redirect("orders:cart")
    return render(request, "orders/checkout_review.html",
                  {"form": form, "details": asdict(details), "address_lines": details.shipping_address_lines,
                   "summary": summary,
                   "step": "review"})


def visible_order(request: HttpRequest, number: str) -> Order:
    """The order if this shopper may see it (their own, or placed in this browser); else 404."""
    order = Order.objects.prefetch_related("lines").filter(number=number).first()
    if order is None:
        raise Http404("No such order")
    owns = request.user.is_authenticated and order.customer_id == request.user.pk
    placed_here = number in request.session.get(PLACED_ORDERS_SESSION_KEY, [])
    if not (owns or placed_here):
        raise Http404("No such order")
    return order


def start_checkout_payment(request: HttpRequest, order: Order) -> HttpResponse:
    """Send the shopper of pending `order` to the provider's hosted payment page; when the provider
    fails, to the confirmation page with the reason and a retry button."""
    back = request.build_absolute_uri(reverse("orders:confirmation", args=[order.number]))
    try:
        payment = payments.start_payment(order=order, flow=Payment.Flow.CHECKOUT, return_url=back, cancel_url=back)
    except payments.PaymentUnavailable as error:
        messages.error(request, str(error))
        return redirect("orders:confirmation", number=order.number)
    return redirect(payment.redirect_url)


@require_POST
def reopen_order(request: HttpRequest, number: str) -> HttpResponse:
    """POST /checkout/reopen/<number>/: "Back to my cart" on the shopper's order whose payment did
    not go through: the order is cancelled (stock back) and its items go back into the cart."""
    order = visible_order(request, number)
    left_out = services.reopen_in_cart(order=order, cart=_cart(request, create=True))
    if left_out is None:
        return redirect("orders:confirmation", number=number)
    messages.success(request, f"Order {number} is cancelled; its items are back in your cart.")
    if left_out:
        messages.warning(request, f"Could not put back (sold out or no longer sold): {', '.join(left_out)}.")
    return redirect("orders:cart")


def checkout_confirmation(request: HttpRequest, number: str) -> HttpResponse:
    """Thank-you page: the order number, the payment's state ("processing" until the provider's
    webhook says paid: the return from the payment page never marks it paid), with the payment
    page link or a retry button when the last attempt failed; the lines and totals, the shipping
    address, what happens next, and the way back to the order (the account's order page, or a
    guest's signed tracking link with an offer to create an account)."""
    order = visible_order(request, number)
    state = selectors.payment_state(order)
    return render(request, "orders/confirmation.html", {
        "order": order, "payment": state.payment, "payment_state": state, "summary": selectors.order_summary(order),
        "order_link": emails.order_link(order), "step": "confirmation",
        "offer_account": not request.user.is_authenticated and order.customer_id is None})


class OrderListView(LoginRequiredMixin, ListView):
    """The customer's order history."""

    template_name = "orders/order_list.html"
    context_object_name = "orders"
    paginate_by = 20

    def get_queryset(self):
        return selectors.customer_orders(self.request.user)


class OrderDetailView(LoginRequiredMixin, DetailView):
    """One of the customer's own orders; anyone else's is a 404."""

    template_name = "orders/order_detail.html"
    context_object_name = "order"

    def get_object(self, queryset=None):
        order = selectors.order_with_timeline(Order.objects.filter(customer=self.request.user),
                                              number=self.kwargs["number"])
        if order is None:
            raise Http404("No such order")
        return order

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "payment_state": selectors.payment_state(self.object),
                "summary": selectors.order_summary(self.object)}


def guest_order(request: HttpRequest, token: str) -> HttpResponse:
    """/orders/track/<token>/: the signed link in a guest's order emails shows the order and its
    timeline without an account. A bad or expired link is a 404."""
    number = emails.order_from_guest_token(token)
    order = selectors.order_with_timeline(Order.objects.all(), number=number) if number else None
    if order is None:
        raise Http404("This order link is not valid or has expired.")
    return render(request, "orders/order_detail.html", {
        "order": order, "guest_view": True, "payment_state": selectors.payment_state(order),
        "summary": selectors.order_summary(order)})
