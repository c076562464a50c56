"""The email to the shop owner when an endpoint is disabled after failing (outbox kind
"webhooks.endpoint_disabled", payload {"endpoint_id"}), written by webhooks.delivery in the
transaction that disables it."""
from django.conf import settings

from accounts.models import User
from outbox.registry import handles
from shop.mail import send_templated_email

from .models import Endpoint


def owner_emails() -> list[str]:
    """Who hears about the shop's webhooks: SHOP_OWNER_EMAILS, or else every active superuser."""
    if settings.SHOP_OWNER_EMAILS:
        return list(settings.SHOP_OWNER_EMAILS)
    return sorted(User.objects.filter(is_superuser=True, is_active=True).exclude(email="")
                  .values_list("email", flat=True))


@handles("webhooks.endpoint_disabled")
def endpoint_disabled(*, endpoint_id: int) -> None:
    """Outbox handler: tell the owner(s) that endpoint `endpoint_id` was disabled, with its last
    error (nothing when the endpoint is gone or was switched on again meanwhile)."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id, disabled_at__isnull=False).first()
    if endpoint is None:
        return
    last = endpoint.deliveries.exclude(last_error="").order_by("-pk").first()
    context = {"endpoint": endpoint, "last_error": last.last_error if last else "",
               "failures": endpoint.consecutive_failures}
    for address in owner_emails():
        send_templated_email(to=address, template="webhook_disabled", context=context)
