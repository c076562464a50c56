"""Login lockout (django-axes) on every way in: the HTML login, the admin login and the API token
endpoint. After AXES_FAILURE_LIMIT failures for one email from one client, even the right
password is refused with 429 until the cool-off ends; other accounts and clients are unaffected."""
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def html_login(client: Client, email: str, password: str, url: str | None = None):
    return client.post(url or reverse("login"), {"username": email, "password": password})


def api_token(client: APIClient, email: str, password: str):
    return client.post("/api/v1/auth/token", {"email": email, "password": password}, format="json")


def test_html_login_locks_after_repeated_failures():
    UserFactory(email="ann@example.com")
    UserFactory(email="bob@example.com")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert html_login(client, "ann@example.com", "wrong").status_code == 200  # the form again, with an error
    locked = html_login(client, "ann@example.com", "wrong")
    assert locked.status_code == 429 and b"Too many failed log-in attempts" in locked.content
    right_password = html_login(client, "ann@example.com", PASSWORD)
    assert right_password.status_code == 429 and "_auth_user_id" not in client.session
    assert html_login(Client(), "bob@example.com", PASSWORD).status_code == 302  # another account logs in


def test_a_successful_login_resets_the_count():
    UserFactory(email="ann@example.com")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        html_login(client, "ann@example.com", "wrong")
    assert html_login(client, "ann@example.com", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert html_login(client, "ann@example.com", "wrong").status_code == 200


def test_admin_login_locks_too():
    User.objects.create_superuser(email="boss@example.com", password=PASSWORD)
    client = Client()
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        html_login(client, "boss@example.com", "wrong", url)
    assert html_login(client, "boss@example.com", PASSWORD, url).status_code == 429


def test_api_token_endpoint_locks_with_a_json_429():
    UserFactory(email="ann@example.com")
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert api_token(client, "ann@example.com", "wrong").status_code in (401, 429)
    locked = api_token(client, "Ann@Example.com", PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out" and set(locked.json()) == {"detail", "code", "fields"}
    assert api_token(APIClient(REMOTE_ADDR="10.0.0.9"), "ann@example.com", PASSWORD).status_code == 200


def test_failures_on_the_api_and_the_html_login_add_up():
    UserFactory(email="ann@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        api_token(APIClient(), "ann@example.com", "wrong")
    html_login(Client(), "ann@example.com", "wrong")
    assert html_login(Client(), "ann@example.com", PASSWORD).status_code == 429
