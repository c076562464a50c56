"""The staff API /api/v1/webhooks/: staff only; the secret shown once (create, rotate-secret);
bad input is a 400 in the error shape; deliveries, redeliver and test."""
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from accounts.models import User
from accounts.tests.factories import UserFactory
from orders.tests.test_api_orders import client_for
from webhooks import delivery, services
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db
HOOKS = "/api/v1/webhooks/"


@pytest.fixture
def staff() -> APIClient:
    return client_for(User.objects.create_superuser(email="boss@example.com", password="x-long-password-1"))


def test_webhooks_are_staff_only():
    endpoint = services.create_endpoint(url="https://example.com/hooks")
    for client in (APIClient(), client_for(UserFactory())):
        assert client.get(HOOKS).status_code in (401, 403)
        assert client.post(HOOKS, {"url": "https://example.com/x"}, format="json").status_code in (401, 403)
        assert client.get(f"{HOOKS}{endpoint.pk}/deliveries/").status_code in (401, 403)
        assert client.post(f"{HOOKS}{endpoint.pk}/rotate-secret/").status_code in (401, 403)
    assert client_for(UserFactory()).get(HOOKS).status_code == 403


def test_create_shows_the_secret_once_then_never(staff):
    created = staff.post(HOOKS, {"url": "https://example.com/hooks", "events": ["order.paid", "stock.changed"]},
                         format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["order.paid", "stock.changed"]
    assert body["is_active"] is True and Endpoint.objects.get().secret == body["secret"]
    url = f"{HOOKS}{body['id']}/"
    assert "secret" not in staff.get(url).json()
    assert all("secret" not in row for row in staff.get(HOOKS).json()["results"])
    patched = staff.patch(url, {"events": [], "is_active": False}, format="json").json()
    assert (patched["events"], patched["is_active"]) == ([], False) and "secret" not in patched
    rotated = staff.post(f"{url}rotate-secret/").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != body["secret"]
    assert staff.delete(url).status_code == 204 and not Endpoint.objects.exists()


@pytest.mark.parametrize("payload, field", [
    ({"url": "ftp://example.com/"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"url": "https://example.com/", "events": ["order.shipped"]}, "events.0"),
    ({"url": "https://example.com/", "events": "order.paid"}, "events"),
    ({"url": "https://example.com/", "is_active": "yes"}, "is_active"),
    ({}, "url"),
])
def test_bad_input_is_a_400_naming_the_field(staff, payload, field):
    response = staff.post(HOOKS, payload, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()


def test_deep_json_is_a_400_not_a_500(staff):
    response = staff.post(HOOKS, "[" * 200 + "]" * 200, content_type="application/json")
    assert response.status_code == 400


def test_test_event_deliveries_and_redeliver(staff, receiver):
    hook = receiver(statuses=[404, 200])
    endpoint = services.create_endpoint(url=hook.url)
    sent = staff.post(f"{HOOKS}{endpoint.pk}/test/")
    assert sent.status_code == 202 and sent.json()["event_type"] == "webhook.test"
    delivery_id = sent.json()["id"]
    delivery.attempt(delivery_id=delivery_id)  # (the relay runs after commit; this test never commits)
    listed = staff.get(f"{HOOKS}{endpoint.pk}/deliveries/?status=failed").json()["results"]
    assert [(d["id"], d["status"], d["last_status_code"]) for d in listed] == [(delivery_id, "failed", 404)]
    assert listed[0]["attempt_log"][0]["response_status"] == 404 and listed[0]["message_id"].startswith("msg_")
    assert staff.get(f"{HOOKS}{endpoint.pk}/deliveries/?status=nope").status_code == 400

    assert staff.post(f"{HOOKS}{endpoint.pk}/redeliver/", {}, format="json").status_code == 400
    assert staff.post(f"{HOOKS}{endpoint.pk}/redeliver/", {"delivery_id": 999999}, format="json").status_code == 404
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    again = staff.post(f"{HOOKS}{endpoint.pk}/redeliver/", {"failed_since": since}, format="json")
    assert again.status_code == 202 and again.json() == {"redelivered": [delivery_id]}
    assert delivery.attempt(delivery_id=delivery_id) == "succeeded"
    assert Webhook(endpoint.secret).verify(hook.requests[-1].body, hook.requests[-1].headers)["type"] == "webhook.test"
    assert hook.requests[0].headers["webhook-id"] == hook.requests[1].headers["webhook-id"]
