"""A customer's whole journey through the integrator API alone, over HTTP:

register -> log in (JWT) -> list and search products -> read one -> place an order with an
Idempotency-Key (and retry it) -> read the order back.

    .venv/bin/python tests/api_journey.py http://127.0.0.1:8000 [search words]

Prints each step and exits non-zero on the first unexpected answer. tests/test_api_journey.py
runs it against a live server on the test database.
"""
import sys
import uuid

import requests


def run(base_url: str, *, search: str = "hoodie", email: str | None = None, say=print) -> dict:
    """Run the journey against `base_url`; returns the placed order (the API's JSON)."""
    api = f"{base_url.rstrip('/')}/api/v1"
    http = requests.Session()
    email = email or f"journey-{uuid.uuid4().hex[:8]}@example.com"
    password = "a-long-journey-password-42"

    def call(method: str, path: str, expected: int, **kwargs) -> dict:
        response = http.request(method, f"{api}{path}", timeout=30, **kwargs)
        if response.status_code != expected:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else {}

    me = call("POST", "/auth/register", 201, json={"email": email, "password": password, "first_name": "Jo"})
    say(f"registered {me['email']} (user {me['id']})")
    tokens = call("POST", "/auth/token", 200, json={"email": email, "password": password})
    http.headers["Authorization"] = f"Bearer {tokens['access']}"
    assert call("GET", "/auth/me", 200)["email"] == email
    say("logged in with a JWT")

    listing = call("GET", "/products/", 200, params={"page": 1})
    say(f"listed {listing['count']} products, {len(listing['results'])} on page 1")
    found = call("GET", "/products/", 200, params={"search": search})["results"]
    assert found, f"searching {search!r} found nothing"
    say(f"search {search!r}: {', '.join(p['name'] for p in found[:3])}")
    product = call("GET", f"/products/{found[0]['slug']}/", 200)
    variant = next(v for v in product["variants"] if v["in_stock"])
    say(f"chose {product['name']} {variant['size']} {variant['colour']} at {variant['unit_price']}")

    body = {
        "items": [{"variant": variant["id"], "quantity": 2}],
        "shipping_address": {"name": "Jo Journey", "line1": "1 Main Street", "city": "Springfield",
                             "postcode": "12345", "country": "US"},
        "shipping_method": "standard", "payment_method": "dummy",
    }
    key = uuid.uuid4().hex
    order = call("POST", "/orders/", 201, json=body, headers={"Idempotency-Key": key})
    retried = call("POST", "/orders/", 201, json=body, headers={"Idempotency-Key": key})
    assert retried == order, "a retry with the same key must return the same order"
    say(f"placed order {order['number']}: total {order['total']} {order['currency']} (retry gave the same order)")
    assert call("GET", f"/orders/{order['number']}/", 200) == order
    assert [o["number"] for o in call("GET", "/orders/", 200)["results"]] == [order["number"]]
    say("read the order back")
    return order


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    run(sys.argv[1], search=" ".join(sys.argv[2:]) or "hoodie")
