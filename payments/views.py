"""The webhook, the test provider's page and the shopper's "try the payment again" button."""
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orders.models import Order
from orders.views import start_checkout_payment, visible_order

from . import services
from .models import Payment
from .providers import active_code, get_provider
from .providers.test import FORM_CONTENT_TYPE, TestProvider


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """POST /payments/stripe/webhook/: verify the event's signature (Stripe's scheme) against the
    active provider's webhook secret (400 with a JSON error when it is bad, or older than 5 minutes)
    and apply the event once (payments.services.apply_event). 200 {"outcome": ...}.

    Stripe (and scripts) post the event as JSON with a Stripe-Signature header. While the `test`
    provider is active, its page (test_page) posts the same signed event as a form from the
    shopper's browser (fields payload, signature, session): the same verification and the same
    apply_event, then a redirect to the order's confirmation page; a stale signature sends the
    shopper back to the test page, which signs afresh."""
    code = active_code()
    if not code:
        return JsonResponse({"detail": "No payment provider is set up.", "code": "not_found"}, status=404)
    from_test_page = code == TestProvider.code and request.content_type == FORM_CONTENT_TYPE
    if request.content_type != "application/json" and not from_test_page:
        return JsonResponse({"detail": "Send the event as application/json.", "code": "bad_request"}, status=400)
    try:
        event = get_provider(code).handle_webhook(request)
    except ValueError as error:
        if from_test_page and (payment := Payment.objects.filter(
                provider=TestProvider.code, session_id=request.POST.get("session", "")[:255]).first()):
            messages.warning(request, "This test payment page was open too long; please choose again.")
            return redirect("payments:test_page", session_id=payment.session_id)
        return JsonResponse({"detail": str(error), "code": "bad_signature"}, status=400)
    outcome = services.apply_event(event, provider=code)
    number = (event["data"]["object"].get("metadata") or {}).get("order_number")
    if from_test_page and Order.objects.filter(number=str(number)).exists():
        return redirect("orders:confirmation", number=number)
    return JsonResponse({"outcome": outcome})


@require_POST
def retry(request: HttpRequest, number: str) -> HttpResponse:
    """POST /payments/retry/<number>/: start the payment of the shopper's pending order again."""
    order = visible_order(request, number)
    if order.status != Order.Status.PENDING_PAYMENT:
        return redirect("orders:confirmation", number=number)
    return start_checkout_payment(request, order)


@require_GET
def test_page(request: HttpRequest, session_id: str) -> HttpResponse:
    """GET /payments/test/<session id>/: the test provider's hosted page (only while it is the
    active provider, and only for the shopper's own order; else 404).

    Its "Approve" and "Decline" buttons are two forms whose action is the webhook path: each holds
    a Stripe-shaped event (checkout.session.completed, or payment_intent.payment_failed) signed
    here, server-side, with the webhook secret (TestProvider.page_events). The browser posts it
    over HTTP and the webhook verifies and applies it like any Stripe event; one handler. The page
    does not post the event itself from inside this request: under `make run` (daphne) sync views
    share one thread, so a request to our own server from a view would wait for itself."""
    if active_code() != TestProvider.code:
        raise Http404("The test payment provider is not active.")
    payment = get_object_or_404(Payment.objects.select_related("order"), session_id=session_id,
                                provider=TestProvider.code)
    visible_order(request, payment.order.number)  # the shopper's own order, or 404
    return render(request, "payments/test_page.html", {
        "payment": payment, "order": payment.order, "events": TestProvider().page_events(payment)})
