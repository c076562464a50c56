"""The webhook, the test provider's page and the shopper's "try the payment again" button."""
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders.models import Order
from orders.views import start_checkout_payment, visible_order

from . import services
from .models import Payment
from .money import to_minor
from .providers import active_code, get_provider
from .providers.stripe import verify_event
from .providers.test import signed_event, webhook_secret


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """POST /payments/stripe/webhook/: verify the Stripe-Signature header against the active
    provider's webhook secret (400 with a JSON error when it is bad, or older than 5 minutes) and
    apply the event once (payments.services.apply_event). 200 {"outcome": ...}."""
    if not active_code():
        return JsonResponse({"detail": "No payment provider is set up.", "code": "not_found"}, status=404)
    if request.content_type != "application/json":  # Stripe posts JSON; a form's body may be read already
        return JsonResponse({"detail": "Send the event as application/json.", "code": "bad_request"}, status=400)
    try:
        event = get_provider().handle_webhook(request)
    except ValueError as error:
        return JsonResponse({"detail": str(error), "code": "bad_signature"}, status=400)
    return JsonResponse({"outcome": services.apply_event(event, provider=active_code())})


@require_POST
def retry(request: HttpRequest, number: str) -> HttpResponse:
    """POST /payments/retry/<number>/: start the payment of the shopper's pending order again."""
    order = visible_order(request, number)
    if order.status != Order.Status.PENDING_PAYMENT:
        return redirect("orders:confirmation", number=number)
    return start_checkout_payment(request, order)


def test_page(request: HttpRequest, session_id: str) -> HttpResponse:
    """/payments/test/<session id>/: the test provider's hosted page (only while it is the active
    provider). "Approve" or "Decline" signs a Stripe-shaped event with the webhook secret; it is
    verified and applied by the webhook's own code; then back to the order's confirmation page."""
    if active_code() != "test":
        raise Http404("The test payment provider is not active.")
    payment = get_object_or_404(Payment.objects.select_related("order"), session_id=session_id, provider="test")
    visible_order(request, payment.order.number)  # the shopper's own order, or 404
    if request.method == "POST":
        metadata = {"order_number": payment.order.number, "payment_id": str(payment.pk)}
        if request.POST.get("action") == "approve":
            body, signature = signed_event("checkout.session.completed", {
                "id": session_id, "object": "checkout.session", "payment_status": "paid", "metadata": metadata,
                "payment_intent": payment.intent_id, "amount_total": to_minor(payment.amount, payment.currency)})
        else:
            body, signature = signed_event("payment_intent.payment_failed", {
                "id": payment.intent_id, "object": "payment_intent", "metadata": metadata,
                "last_payment_error": {"message": "Your card was declined (test provider)."}})
        services.apply_event(verify_event(body, signature, webhook_secret()), provider="test")
        return redirect("orders:confirmation", number=payment.order.number)
    return render(request, "payments/test_page.html", {"payment": payment, "order": payment.order})
