"""The security baseline: deploy checks, headers, Host header, request size limits, CSRF on every form."""
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {  # the documented production environment: TLS ends at nginx
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k3Qv9-production-like-secret-key-for-the-deploy-check-8Zp2",
    "DJANGO_ALLOWED_HOSTS": "shop.example.com",
}


def deploy_check(**overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(PRODUCTION_ENV, **overrides)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_passes_with_the_production_environment():
    result = deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_catches_a_plain_http_setting():
    """The check is not vacuous: the plain-HTTP local stack's overrides are reported."""
    result = deploy_check(DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SECURE_COOKIES="false")
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout
    assert "security.W012" in result.stderr + result.stdout


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict((d.split(" ", 1) + [""])[:2] for d in policy.split("; "))
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_behind_the_proxy_http_is_redirected_and_https_gets_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    plain = client.get("/health/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/health/"
    secure = client.get("/health/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    login = client.get(reverse("login"), headers={"X-Forwarded-Proto": "https"})
    cookie = login.cookies["csrftoken"]
    assert cookie["secure"] and cookie["httponly"]


@pytest.mark.django_db
def test_a_foreign_host_header_gets_400(client):
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "testserver"}).status_code == 200


@pytest.mark.django_db
def test_request_bodies_over_the_limits_are_refused(client, settings):
    settings.SHOP_MAX_REQUEST_BYTES = 100_000
    big = client.post(reverse("login"), data=b"x" * 100_001, content_type="application/octet-stream")
    assert big.status_code == 413
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # form fields held in memory
    fields = client.post(reverse("login"), {"username": "a" * 5000, "password": "b"})
    assert fields.status_code == 413  # issue 21: 413 like the whole body, not Django's bare 400


# --- Every HTML form that POSTs refuses a request without the CSRF token --------------------------

class FormParser(HTMLParser):
    """Collects <form method=post>: (action, {field name: value}) from a page."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._current = {"action": attrs.get("action") or "", "fields": {}}
            self.forms.append((self._current["action"], self._current["fields"]))
        elif tag in ("input", "select", "textarea", "button") and self._current is not None and attrs.get("name"):
            self._current["fields"].setdefault(attrs["name"], attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def url_names(resolver: URLResolver, namespace: str = "", params: frozenset = frozenset()):
    """Every named URL of the URLconf as (qualified name, the parameter names it needs)."""
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        names = set(getattr(pattern, "converters", {}) or {}) | set(getattr(pattern, "regex").groupindex)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_names(entry, inner, params | names)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", params | names


CHECKOUT_DETAILS = {"email": "walker@example.com", "shipping_name": "Wal Ker", "shipping_line1": "1 Main Street",
                    "shipping_city": "Springfield", "shipping_postcode": "62701", "shipping_region": "IL",
                    "shipping_country": "US",
                    "shipping_method": "standard"}


@pytest.fixture
def shop_with_a_product(db):
    from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

    category = CategoryFactory(name="Tees", slug="tees", path="tees", depth=1)
    product = ProductFactory(name="Walk Tee")
    product.categories.add(category)
    variant = VariantFactory(product=product, stock=10)
    return {"path": category.path, "slug": product.slug, "variant": variant}


def forms_on_the_site(client: Client, samples: dict) -> dict[str, tuple[str, dict]]:
    """GET every page of the URLconf that can be reversed with `samples`; return the POST forms
    found, keyed by their absolute action URL (first page seen wins)."""
    found = {}
    for name, params in url_names(get_resolver()):
        if params - samples.keys():
            continue
        try:
            url = reverse(name, kwargs={p: samples[p] for p in params})
        except NoReverseMatch:
            continue
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = FormParser()
        parser.feed(response.content.decode())
        for action, fields in parser.forms:
            target = urljoin(url, action)
            found.setdefault(urlsplit(target).path, (url, fields))
    return found


@pytest.mark.django_db
def test_every_post_form_without_a_csrf_token_gets_403(shop_with_a_product, django_user_model):
    staff = django_user_model.objects.create_superuser(email="csrf-staff@example.com", password="x-long-pass-42")
    samples = {"path": shop_with_a_product["path"], "slug": shop_with_a_product["slug"]}
    variant = shop_with_a_product["variant"]

    all_forms = {}
    for identity in ("guest", "staff"):
        loose = Client()  # sets up the session the way a browser would, token included
        if identity == "staff":
            loose.force_login(staff)
        loose.post(reverse("orders:cart_add"), {"product": variant.product_id, "size": variant.size,
                                                "colour": variant.colour, "quantity": 1})
        loose.post(reverse("orders:checkout"), CHECKOUT_DETAILS)  # so that the review step shows its form
        forms = forms_on_the_site(loose, samples)
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = loose.cookies
        for action, (page, fields) in forms.items():
            assert "csrfmiddlewaretoken" in fields, f"the form on {page} posting to {action} has no CSRF token"
            data = {k: v for k, v in fields.items() if k != "csrfmiddlewaretoken"}
            response = strict.post(action, data)
            assert response.status_code == 403, f"POST {action} (form on {page}) without a token: {response.status_code}"
            all_forms[action] = page
    expected = {reverse("orders:cart_add"), reverse("orders:cart_update"), reverse("orders:checkout"),
                reverse("login"), reverse("signup"), reverse("logout"), reverse("password_reset"),
                reverse("orders:checkout_review"), reverse("password_change"), reverse("admin:logout"),
                reverse("admin:catalog_product_add")}
    missing = expected - all_forms.keys()
    assert not missing, f"the walk did not find these forms: {missing} (found {sorted(all_forms)})"


def test_a_guests_csrf_token_from_the_product_page_guards_the_cart(shop_with_a_product):
    """A guest's token from the product page lets the add-to-cart form through; the same form with
    a made-up token gets 403 (Django's own CSRF middleware, unpatched)."""
    guest = Client(enforce_csrf_checks=True)
    page = guest.get(reverse("catalog:product", kwargs={"slug": shop_with_a_product["slug"]})).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    variant = shop_with_a_product["variant"]
    form = {"product": variant.product_id, "size": variant.size, "colour": variant.colour, "quantity": 1}
    assert guest.post(reverse("orders:cart_add"), {**form, "csrfmiddlewaretoken": token}).status_code == 302
    forged = "a" * len(token)
    assert guest.post(reverse("orders:cart_add"), {**form, "csrfmiddlewaretoken": forged}).status_code == 403
