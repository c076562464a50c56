"""Register, JWT tokens (refresh rotation with a blacklist), logout and /auth/me through APIClient."""
import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def token_pair(client: APIClient, email: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/v1/auth/token", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_register_creates_a_customer_through_the_service():
    response = APIClient().post("/api/v1/auth/register", {
        "email": "New@Example.com", "password": "a-long-unusual-phrase", "first_name": "Ann",
        "is_staff": True, "is_superuser": True}, format="json")  # mass assignment is ignored
    assert response.status_code == 201, response.json()
    assert response.json()["email"] == "new@example.com" and response.json()["is_staff"] is False
    user = User.objects.get(email="new@example.com")
    assert not user.is_staff and not user.is_superuser and user.check_password("a-long-unusual-phrase")


@pytest.mark.parametrize("body,field", [
    ({"email": "taken@example.com", "password": "a-long-unusual-phrase"}, "email"),
    ({"email": "TAKEN@example.com", "password": "a-long-unusual-phrase"}, "email"),
    ({"email": "new@example.com", "password": "password"}, "password"),
    ({"email": "new@example.com", "password": "12345678901"}, "password"),
    ({"email": "not-an-email", "password": "a-long-unusual-phrase"}, "email"),
    ({"password": "a-long-unusual-phrase"}, "email"),
])
def test_register_refuses_bad_input_naming_the_field(body, field):
    UserFactory(email="taken@example.com")
    response = APIClient().post("/api/v1/auth/register", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()["fields"], response.json()


def test_token_me_refresh_rotation_and_logout():
    user = UserFactory(email="ann@example.com")
    client = APIClient()
    pair = token_pair(client, "ANN@example.com")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["id"] == user.pk and me.json()["email"] == "ann@example.com"

    anon = APIClient()
    rotated = anon.post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200 and {"access", "refresh"} <= rotated.json().keys()
    reused = anon.post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]}, format="json")
    assert reused.status_code == 401 and reused.json()["code"] == "token_not_valid"  # blacklisted after use

    new_refresh = rotated.json()["refresh"]
    assert anon.post("/api/v1/auth/logout", {"refresh": new_refresh}, format="json").status_code == 204
    after_logout = anon.post("/api/v1/auth/token/refresh", {"refresh": new_refresh}, format="json")
    assert after_logout.status_code == 401
    assert anon.post("/api/v1/auth/logout", {"refresh": "junk"}, format="json").status_code == 401


def test_wrong_password_and_anonymous_me_are_401_json():
    UserFactory(email="ann@example.com")
    wrong = APIClient().post("/api/v1/auth/token", {"email": "ann@example.com", "password": "nope"}, format="json")
    assert wrong.status_code == 401 and set(wrong.json()) == {"detail", "code", "fields"}
    me = APIClient().get("/api/v1/auth/me")
    assert me.status_code == 401 and me.json()["code"] == "not_authenticated"
    bad_token = APIClient(HTTP_AUTHORIZATION="Bearer not.a.jwt").get("/api/v1/auth/me")
    assert bad_token.status_code == 401 and bad_token.json()["code"] == "token_not_valid"


def test_session_auth_works_for_the_browsable_api():
    user = UserFactory()
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/v1/auth/me").json()["id"] == user.pk


def test_auth_endpoints_are_throttled_per_client(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/minute"}}
    client = APIClient()
    statuses = [client.post("/api/v1/auth/token", {"email": f"x{i}@example.com", "password": "x"},
                            format="json").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = client.post("/api/v1/auth/register", {"email": "a@example.com", "password": "x"}, format="json")
    assert limited.status_code == 429 and limited.json()["code"] == "throttled"


def test_api_errors_are_json_never_html():
    for url in ("/api/v1/no-such-thing/", "/api/v1/orders/IS-X/nothing"):
        response = APIClient().get(url)
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found.", "code": "not_found", "fields": {}}
    broken = APIClient().post("/api/v1/auth/token", "{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["code"] == "parse_error"


def test_cors_allows_only_configured_origins(settings):
    preflight = {"HTTP_ORIGIN": "https://app.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}
    assert "access-control-allow-origin" not in APIClient().options("/api/v1/products/", **preflight).headers
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    response = APIClient().options("/api/v1/products/", **preflight)
    assert response.headers["access-control-allow-origin"] == "https://app.example"
