"""A customer's whole journey through the integrator API alone, over HTTP:

register -> log in (JWT) -> list and search products -> read one -> place an order with an
Idempotency-Key (and retry it) -> get its PaymentIntent's client_secret -> pay it -> read the
order back, paid.

Paying: a real client confirms the PaymentIntent with Stripe.js and the client_secret, and Stripe
sends the webhook. With the shop's `test` provider, the journey plays Stripe's part: it posts the
signed payment_intent.succeeded to the webhook, given the webhook secret (WEBHOOK_SECRET in the
environment, or `webhook_secret=`); without one it stops at the pending order.

    WEBHOOK_SECRET=whsec_... .venv/bin/python tests/api_journey.py http://127.0.0.1:8000 [search words]

Prints each step and exits non-zero on the first unexpected answer. tests/test_api_journey.py
runs it against a live server on the test database.
"""
import hashlib
import hmac
import json
import os
import sys
import time
import uuid

import requests


def run(base_url: str, *, search: str = "hoodie", email: str | None = None, say=print,
        webhook_secret: str | None = None) -> dict:
    """Run the journey against `base_url`; returns the placed order (the API's JSON), paid when
    `webhook_secret` (default: $WEBHOOK_SECRET) is given."""
    webhook_secret = webhook_secret or os.environ.get("WEBHOOK_SECRET")
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
                             "postcode": "62701", "region": "IL", "country": "US"},
        "shipping_method": "standard",
    }
    key = uuid.uuid4().hex
    order = call("POST", "/orders/", 201, json=body, headers={"Idempotency-Key": key})
    retried = call("POST", "/orders/", 201, json=body, headers={"Idempotency-Key": key})
    assert retried == order, "a retry with the same key must return the same order"
    say(f"placed order {order['number']}: total {order['total']} {order['currency']} (retry gave the same order)")
    assert order["status"] == "pending_payment" and order["payment"]["client_secret"], order
    say(f"got PaymentIntent {order['payment']['intent_id']} with its client_secret")
    assert call("GET", f"/orders/{order['number']}/", 200) == order
    if webhook_secret:
        pay(base_url, order, webhook_secret)
        for _ in range(50):
            order = call("GET", f"/orders/{order['number']}/", 200)
            if order["status"] == "paid":
                break
            time.sleep(0.1)
        assert order["status"] == "paid", order
        say("paid: the webhook marked the order paid")
    assert [o["number"] for o in call("GET", "/orders/", 200)["results"]] == [order["number"]]
    say("read the order back")
    return order


def pay(base_url: str, order: dict, secret: str) -> None:
    """Play Stripe's part after Stripe.js confirmed the PaymentIntent: post the signed
    payment_intent.succeeded event (Stripe-Signature: t=..., v1=HMAC-SHA256) to the webhook."""
    body = json.dumps({"id": f"evt_journey_{uuid.uuid4().hex}", "object": "event", "type": "payment_intent.succeeded",
                       "data": {"object": {"id": order["payment"]["intent_id"], "object": "payment_intent"}}}).encode()
    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    response = requests.post(f"{base_url.rstrip('/')}/payments/stripe/webhook/", data=body, timeout=30,
                             headers={"Stripe-Signature": f"t={stamp},v1={mac}", "Content-Type": "application/json"})
    if response.status_code != 200:
        raise AssertionError(f"webhook: {response.status_code} {response.text[:500]}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    run(sys.argv[1], search=" ".join(sys.argv[2:]) or "hoodie")
