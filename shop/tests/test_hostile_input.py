"""Issue 21 item 5: hostile input gets a clean 4xx (or a clean WebSocket close code) and a log line
without a traceback, never a 500.

First the faults found, one by one; then a walk of EVERY route (the URLconf's HTML and API
patterns, found by walking the resolver, and the Channels router's WebSocket routes) with a corpus
of hostile values in path parameters, query strings, form bodies and JSON bodies, as a guest and as
a superuser, asserting no 5xx and no traceback in the logs. tests/test_stack_clients.py sends some of
the same through nginx.
"""
import io
import json
import logging
import re
from decimal import Decimal
from urllib.parse import quote, urlencode

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Address, User
from accounts.tests.factories import UserFactory
from catalog.tests.factories import CategoryFactory, ProductImageFactory, ReviewFactory, VariantFactory
from orders import services
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order

pytestmark = pytest.mark.django_db

DEEP_JSON = "[" * 5000


@pytest.fixture
def shop_log():
    """What the shop's log handler ("console" in settings.LOGGING, with its formatter and filters)
    writes during the test."""
    console = next(handler for handler in logging.getLogger().handlers if handler.name == "console")
    buffer = io.StringIO()
    copy = logging.StreamHandler(buffer)
    copy.setFormatter(console.formatter)
    copy.setLevel(console.level)
    for log_filter in console.filters:
        copy.addFilter(log_filter)
    logging.getLogger().addHandler(copy)
    yield buffer
    logging.getLogger().removeHandler(copy)


def log_problems(shop_log) -> list[str]:
    """Lines of the shop's log that show a traceback or a server error."""
    lines = shop_log.getvalue().splitlines()
    return [line[:300] for number, line in enumerate(lines)
            if "Traceback" in line or "Internal Server Error" in line or "request_failed" in line]


@pytest.fixture
def guest():
    return Client(raise_request_exception=False)


@pytest.fixture
def boss(db):
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="a-long-test-password-42"))
    return client


# --- The faults found ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/auth/register", "/api/v1/auth/token/refresh",
                                  "/api/v1/orders/"])
def test_deeply_nested_json_is_a_400_in_the_error_shape(path, boss, shop_log):
    response = boss.post(path, DEEP_JSON, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "parse_error" and "nested" in response.json()["detail"]
    nul = boss.post(path, json.dumps({"email": "a\u0000@example.com", "items": [], "refresh": "x\u0000"}),
                    content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert nul.status_code == 400
    assert log_problems(shop_log) == []


def test_nul_bytes_in_any_query_form_path_or_cookie_are_refused_once_for_all(guest, shop_log):
    search = guest.get("/search/?q=%00")
    assert search.status_code == 400 and b"NUL" in search.content
    assert guest.get("/c/men/", {"size": "M\x00"}).status_code == 400
    assert guest.post(reverse("login"), {"username": "ann\x00@example.com", "password": "x"}).status_code == 400
    assert guest.post(reverse("signup"), {"email": "a@example.com", "first_name": "\x00"}).status_code == 400
    assert guest.get("/orders/IS-%00/").status_code == 400
    api = guest.get("/api/v1/products/", {"search": "\x00"})
    assert api.status_code == 400 and api.json()["code"] == "invalid"
    guest.cookies["sessionid"] = "abcdefgh\x00ijklmnop"  # a cookie with NUL is dropped, the page served
    assert guest.get("/").status_code == 200
    assert log_problems(shop_log) == []
    refused = [line for line in shop_log.getvalue().splitlines() if "shop.security" in line]
    assert len(refused) == 6 and all("NUL" in line for line in refused), refused


def test_a_refresh_token_of_a_deleted_account_is_a_401(guest, shop_log):
    gone = UserFactory()
    token = str(RefreshToken.for_user(gone))
    gone.delete()
    response = guest.post("/api/v1/auth/token/refresh", {"refresh": token}, content_type="application/json")
    assert response.status_code == 401 and response.json()["code"] == "token_not_valid"
    assert log_problems(shop_log) == []


def test_form_fields_over_the_limit_are_a_413_and_so_are_bodies_over_nginxs(guest, settings, shop_log):
    response = guest.post(reverse("login"), {"username": "x" * 3_000_000, "password": "x"})
    assert response.status_code == 413 and b"larger than" in response.content
    too_many = guest.post(reverse("login"), {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)})
    assert too_many.status_code == 400
    assert log_problems(shop_log) == []
    # nginx's client_max_body_size (make prod and docker-compose) is Django's whole-body limit.
    from deploy.prod import DOCKER_VALUES, render_nginx_conf

    nginx = re.search(r"client_max_body_size (\d+)m;", render_nginx_conf(DOCKER_VALUES)).group(1)
    assert int(nginx) * 1024 * 1024 == django_settings.SHOP_MAX_REQUEST_BYTES
    local = (django_settings.BASE_DIR / "deploy" / "prod.py").read_text()
    assert local.count('"CLIENT_MAX_BODY_SIZE": "16m"') == 2


def test_an_invalid_admin_date_filter_is_said_to_be_invalid(boss, shop_log):
    for query in ("created_at__gte=2020-13-45", "created_after=2020-13-45"):
        page = boss.get(f"/admin/orders/order/?{query}", follow=True)
        assert page.status_code == 200
        assert "That filter is not valid" in page.content.decode(), query
    assert "invalid date" in boss.get("/admin/orders/order/?created_at__gte=2020-13-45", follow=True).content.decode()
    assert boss.get("/admin/accounts/user/?password__startswith=a", follow=True).status_code == 200
    assert log_problems(shop_log) == []


# --- WebSockets ------------------------------------------------------------------------------------

def websocket(path: str) -> WebsocketCommunicator:
    from shop.asgi import application

    return WebsocketCommunicator(application, path, headers=[(b"origin", b"http://testserver"),
                                                             (b"host", b"testserver")])


@pytest.fixture
def memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def test_an_unknown_websocket_path_closes_with_4404_and_a_deep_frame_gets_an_error(memory_layer, shop_log):
    async def run():
        unknown = websocket("/ws/nowhere/")
        connected, _ = await unknown.connect()
        assert connected
        assert await unknown.receive_output(timeout=5) == {"type": "websocket.close", "code": 4404}
        inventory = websocket("/ws/inventory/")
        assert (await inventory.connect())[0]
        for frame in ("[" * 3000, '{"type": "ping", "x": "\\u0000"}', '{"type": "\\ud800"}'):
            await inventory.send_to(text_data=frame)
            assert json.loads(await inventory.receive_from(timeout=5))["type"] == "error"
        await inventory.send_to(text_data='{"type": "ping"}')
        assert json.loads(await inventory.receive_from(timeout=5)) == {"type": "pong"}  # still open
        await inventory.disconnect()

    async_to_sync(run)()
    assert log_problems(shop_log) == []


# --- The walk of every route -----------------------------------------------------------------------

HOSTILE = [  # one of each kind: size, nesting, encoding, numbers, emptiness, traversal, injection, dates
    "x" * 5000, DEEP_JSON, "\ud800", "\udcff\udcfe", "\u202e", "\U0001f600" * 50, "%00", "%ff%fe",
    "-1", "0", "-9223372036854775809", "9223372036854775808", "99999999999999999999999999999999", "1e309",
    "NaN", "Infinity", "-0", "0x10", " ", "", "../../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd",
    "' OR 1=1--", "%s%n{0}{}", "<script>alert(1)</script>", "2020-13-45", "[]", "{}", "null",
    "\r\nX-Injected: 1", "a" * 300,
]
NUL = "a\x00b"  # refused before any view, so it comes in requests of its own
PATH_VALUES = [NUL, "x" * 5000, "\ud800", "%ff", "-1", "0", "9223372036854775808", "1e309", "..%2F..%2Fetc",
               "../../etc/passwd", "' OR 1=1--", " "]
ROTATIONS = 3  # query strings (and form bodies) per route, each holding every hostile value
QUERY_VALUE_BYTES = 100  # in a query string (a form body takes the values whole)
# Query and form names the shop's views and filters read, plus the admin's and DRF's own.
PARAMETERS = [
    "q", "page", "sort", "size", "colour", "min_price", "max_price", "in_stock", "after", "before", "last",
    "range", "start", "end", "currency", "days", "next", "status", "placed_from", "placed_to", "customer", "email",
    "search", "ordering", "category", "categories", "product", "variant", "quantity", "address", "format",
    "o", "p", "e", "_popup", "_to_field", "created_at__gte", "created_at__lt", "id__exact", "url", "width",
    "username", "password", "password1", "password2", "first_name", "last_name", "card_number",
    "idempotency_key", "login_code", "shipping_method", "shipping_country", "rating", "title", "body",
    "old_password", "new_password1", "new_password2", "csrfmiddlewaretoken", "action", "_selected_action",
    "select_across", "index", "token", "refresh", "stock", "delta", "sku", "slug", "name", "group_by", "metrics",
]
JSON_BODIES = [DEEP_JSON, '{"email": "\\u0000", "\\ud800": [1e999], "items": [{"variant": 9223372036854775808}]}',
               b"\xff\xfe{" + b"9" * 5000]
WEBSOCKET_FRAMES = ["[" * 3000, '{"type": "subscribe", "variants": [9223372036854775808, -1, "x"]}', "\x00",
                    '{"type": "\\u0000"}', "{" * 100, "x" * 100_000, '{"type": "subscribe", "variants": ' +
                    json.dumps(list(range(1, 2000))) + "}"]


def raw(value: str) -> bytes:
    """The bytes a client would send for `value` (a lone surrogate as its invalid UTF-8 bytes)."""
    return value.encode("utf-8", "surrogatepass")


def every_route(patterns=None, prefix: str = "") -> list[tuple[str, list[str]]]:
    """(route as text, its parameter names) for every URL pattern, walking included URLconfs."""
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += every_route(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern):
            names = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", text)
            routes.append((text, [a or b for a, b in names]))
    return routes


def concrete(route: str, values: dict[str, str]) -> str:
    """A path for `route` (Django route syntax or a regex) with each parameter set from `values`
    (percent-encoded as a client would send it)."""
    def value(match):
        return quote(raw(values.get(match.group(1) or match.group(2), "1")), safe="")

    path = re.sub(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", value, route)
    path = re.sub(r"\\(.)", r"\1", path.replace("^", "").replace("$", "").replace("/?", "/"))
    return "/" + path.lstrip("/")


def hostile_forms() -> list[list[tuple[str, bytes]]]:
    """Forms of (name, value) pairs that together put every hostile value in every parameter: the
    first puts NUL in every parameter; each of the others puts every hostile value somewhere (there
    are more parameters than values), form k giving parameter j the value (j * stride_k + k) mod n,
    so that each parameter gets ROTATIONS different values."""
    forms = [[(name, raw(NUL)) for name in PARAMETERS]]
    for k, stride in enumerate((1, 7, 11)[:ROTATIONS]):
        forms.append([(name, raw(HOSTILE[(j * stride + k) % len(HOSTILE)])) for j, name in enumerate(PARAMETERS)])
    return forms


def query_string(form: list[tuple[str, bytes]]) -> str:
    """`form` as a query string, each value cut to QUERY_VALUE_BYTES so that the URL stays under
    SHOP_MAX_URI_BYTES (longer URLs get 414 before any view; test_every_operation_documents_the_servers_414)."""
    return urlencode([(name, value[:QUERY_VALUE_BYTES]) for name, value in form])


def hostile_upload() -> dict:
    """A multipart body: hostile text fields and a file with a traversal name and junk content."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"image": SimpleUploadedFile("../../../etc/passwd.png", b"GIF89a" + b"\x00" * 64, "image/png"),
            "alt": "x" * 5000, "product": "9223372036854775808", "position": "-1"}


@pytest.fixture
def shop_data(settings, memory_layer):
    men = CategoryFactory(name="Men", slug="men")
    variant = VariantFactory(stock=50, price=Decimal("20.00"), product__categories=[men])
    ProductImageFactory(product=variant.product)
    ReviewFactory(product=variant.product)
    customer = UserFactory(email="ann@example.com")
    Address.objects.create(user=customer, name="Ann", line1="1 Main St", city="Leeds", postcode="LS1", country="GB")
    order = place_paid_order(cart=cart_with((variant, 1)), customer=customer, details=checkout_details(), idempotency_key="walk")
    return {"slug": variant.product.slug, "number": order.number, "path": "men", "pk": str(variant.pk),
            "object_id": str(order.pk), "id": str(variant.pk), "product_pk": str(variant.product.pk),
            "table": "daily-sales", "token": "x", "app_label": "orders", "content_type_id": "1"}


def test_every_route_answers_hostile_input_without_a_5xx_or_a_traceback(shop_data, guest, boss, shop_log, settings):
    """Every URL pattern, with hostile path parameters, query strings, form bodies, JSON bodies and
    an upload, as a guest and as a superuser; then every WebSocket route with hostile frames."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        scope: "1000000/minute" for scope in ("anon", "user", "auth")}}
    settings.AXES_ENABLED = False  # thousands of form posts to the login pages are the point here
    # Each of those posts hashes its password (Django hashes even for an unknown email): Argon2 would
    # take most of the run; what is walked here is the input handling, not the hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    routes = every_route()
    assert len(routes) >= 100, len(routes)
    forms = hostile_forms()
    failures, tried = [], 0

    def send(client, method: str, path: str, **kwargs) -> None:
        nonlocal tried
        tried += 1
        try:
            response = getattr(client, method)(path, **kwargs)
        except Exception as error:  # noqa: BLE001 - the test client raising is a failure like a 500
            failures.append(f"{method.upper()} {path[:120]!r}: raised {type(error).__name__}: {error!s:.200}")
            return
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {path[:120]!r} {str(kwargs.get('data', ''))[:80]!r}: "
                            f"{response.status_code}")

    boss_user = User.objects.get(email="boss@example.com")
    for route, names in routes:
        base = concrete(route, shop_data)
        api = base.startswith("/api/")
        boss.force_login(boss_user)  # a walked logout (or password change) logged the boss out

        def send_as(client, *args, **kwargs):
            send(client, *args, **kwargs)
            if client is boss and ("logout" in base or "password" in base):
                boss.force_login(boss_user)

        for name in names:  # hostile values in each path parameter (as a superuser: every view answers)
            for value in PATH_VALUES:
                send_as(boss, "get", concrete(route, {**shop_data, name: value}))
        # Guests meet the admin only at its login page (a route of its own); staff meet everything.
        for client in (boss,) if base.startswith("/admin/") else (guest, boss):
            for form in forms:  # every value in the query string and in a form body
                send_as(client, "get", f"{base}?{query_string(form)}")
                send_as(client, "post", base, data=urlencode(form), content_type="application/x-www-form-urlencoded")
            for body in JSON_BODIES:  # and JSON bodies, to each method that takes one
                for method in ("post", "put", "patch") if api else ("post",):
                    send_as(client, method, base, data=body, content_type="application/json",
                            HTTP_IDEMPOTENCY_KEY="walk-key")
        send_as(boss, "post", base, data=hostile_upload())

    sockets = walk_websockets()
    print(f"\nhostile inputs tried: {tried} HTTP requests over {len(routes)} URL patterns and {sockets} WebSocket "
          f"sessions over the Channels routes; 5xx seen: {len(failures)}")
    assert failures == [], "\n".join(failures[:50])
    assert log_problems(shop_log) == [], log_problems(shop_log)[:20]


def websocket_routes(routes=None, prefix: str = "") -> list[str]:
    """Every route of the Channels router (shop.asgi.websocket_routes, walking nested URLRouters)."""
    from shop.asgi import websocket_routes as root

    found = []
    for route in root if routes is None else routes:
        text = prefix + str(route.pattern)
        inner = route.callback.routes if isinstance(route.callback, URLRouter) else None
        found += websocket_routes(inner, text) if inner else [text]
    return found


def walk_websockets() -> int:
    """Each WebSocket route, and hostile paths under /ws/, with hostile frames: every session
    ends with a clean close code or stays open answering errors. Returns the sessions tried."""
    routes = websocket_routes()
    assert {"ws/inventory/", "ws/staff/"} <= set(routes)
    paths = [concrete(route, {}) for route in routes] + ["/ws/" + quote(raw(value), safe="/")
                                                         for value in ("x" * 3000, "../..", NUL, "\ud800")]
    sessions = 0

    async def run():
        nonlocal sessions
        for path in paths:
            for frame in WEBSOCKET_FRAMES:
                sessions += 1
                socket = websocket(path)
                connected, _ = await socket.connect(timeout=5)
                if connected:
                    await socket.send_to(text_data=frame)
                    output = await socket.receive_output(timeout=5)
                    assert output["type"] in ("websocket.send", "websocket.close"), output
                    if output["type"] == "websocket.close":
                        assert output.get("code", 1000) in (1000, 4403, 4404, 4429), (path, output)
                    await socket.disconnect()

    async_to_sync(run)()
    return sessions


def test_every_websocket_route_answers_hostile_frames_cleanly(memory_layer, shop_log):
    assert walk_websockets() > 40
    assert log_problems(shop_log) == []
