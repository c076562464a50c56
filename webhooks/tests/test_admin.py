"""The admin: endpoints created (the secret shown once in a message), changed, and the actions
send a test event, redeliver failed, rotate the secret; deliveries listed with their attempts."""
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import User
from webhooks import delivery, services
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x-long-password-1"))
    return client


def test_create_change_and_actions(admin_client, receiver):
    hook = receiver(statuses=[500, 200])
    added = admin_client.post(reverse("admin:webhooks_endpoint_add"), {
        "url": hook.url, "events": ["order.paid", "webhook.test"], "is_active": "on", "description": "ERP",
        "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"}, follow=True)
    endpoint = Endpoint.objects.get()
    shown = [str(m) for m in get_messages(added.wsgi_request)]
    assert any(endpoint.secret in m for m in shown), shown
    assert endpoint.events == ["order.paid", "webhook.test"] and endpoint.description == "ERP"
    assert endpoint.secret not in admin_client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])).content.decode()

    changelist = reverse("admin:webhooks_endpoint_changelist")
    admin_client.post(changelist, {"action": "send_test_event", "_selected_action": [endpoint.pk]})
    row = Delivery.objects.get()
    assert delivery.attempt(delivery_id=row.pk) == "retry"
    Delivery.objects.filter(pk=row.pk).update(status="failed")
    admin_client.post(changelist, {"action": "redeliver_failed", "_selected_action": [endpoint.pk]})
    assert delivery.attempt(delivery_id=row.pk) == "succeeded"
    old = endpoint.secret
    rotated = admin_client.post(changelist, {"action": "rotate_secret", "_selected_action": [endpoint.pk]}, follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert any(endpoint.secret in str(m) for m in get_messages(rotated.wsgi_request))

    page = admin_client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
    assert page.status_code == 200 and "webhook.test" in page.content.decode()
    assert admin_client.get(reverse("admin:webhooks_delivery_changelist")).status_code == 200
    detail = admin_client.get(reverse("admin:webhooks_delivery_change", args=[row.pk]))
    assert detail.status_code == 200 and "HTTP 500" in detail.content.decode()
    Delivery.objects.filter(pk=row.pk).update(status="failed")
    admin_client.post(reverse("admin:webhooks_delivery_changelist"), {"action": "redeliver", "_selected_action": [row.pk]})
    assert Delivery.objects.get(pk=row.pk).status == "pending"
    services.delete_endpoint(endpoint=endpoint)


def test_the_command_shows_counts_and_relays_due_deliveries(receiver, eager):
    from io import StringIO

    from django.core.management import call_command

    hook = receiver()
    endpoint = services.create_endpoint(url=hook.url)
    services.send_test(endpoint=endpoint)  # no commit in this test: still pending
    out = StringIO()
    call_command("webhooks", "status", stdout=out)
    assert f"{hook.url} (on): pending 1, succeeded 0, failed 0" in out.getvalue()
    call_command("webhooks", "relay", stdout=out)
    assert "1 delivery(ies) handed over" in out.getvalue() and len(hook.requests) == 1
    assert Delivery.objects.get().status == "succeeded"
