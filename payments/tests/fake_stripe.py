"""A fake Stripe API on 127.0.0.1 for the test suite (no internet in CI).

It speaks the documented JSON of the endpoints the shop uses (POST/GET /v1/payment_intents,
GET /v1/payment_intents/<id> with expand (latest_charge.balance_transaction: Stripe's fee),
POST /v1/checkout/sessions, POST /v1/refunds, GET /v1/events), with Stripe's error shape
({"error": {"type", "code", "message"}}), Idempotency-Key replay (same key: the first answer again,
with Idempotent-Replayed: true; Stripe keeps 5xx answers too) and injected 5xx or slow answers.
Its hosted checkout page (/pay/<session id>) takes no card: "Pay" marks the session paid, posts the
signed checkout.session.completed webhook to the shop and redirects to the success URL.
"""
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import requests

from payments.providers.test import sign


def decode_form(body: str) -> dict:
    """Stripe's form encoding (a[b][0][c]=v) as nested dicts and lists."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        if node and all(key.isdigit() for key in node):
            return [_lists(node[key]) for key in sorted(node, key=int)]
        return {key: _lists(value) for key, value in node.items()}
    return node


class FakeStripe:
    """The fake's state, and helpers for tests to play Stripe's side."""

    def __init__(self, webhook_secret: str):
        self.webhook_secret = webhook_secret
        self.webhook_url = ""
        self.intents: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.events: list[dict] = []
        self.replies: dict[str, tuple[int, dict]] = {}  # idempotency key -> first answer
        self.fail_with: list[int] = []  # statuses to answer the next requests with
        self.delay = 0.0  # seconds before answering
        self.requests: list[tuple[str, str, dict]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # --- Stripe's side of a payment --------------------------------------------------------------

    def event(self, event_type: str, obj: dict) -> dict:
        """Record and return a new event about `obj`."""
        event = {"id": f"evt_{secrets.token_hex(12)}", "object": "event", "type": event_type,
                 "created": int(time.time()), "data": {"object": json.loads(json.dumps(obj))}}
        self.events.append(event)
        return event

    def signed(self, event: dict, *, timestamp: int | None = None, secret: str | None = None) -> tuple[bytes, dict]:
        """The webhook body of `event` and its headers, signed like Stripe does."""
        body = json.dumps(event).encode()
        return body, {"Stripe-Signature": sign(body, secret or self.webhook_secret, timestamp),
                      "Content-Type": "application/json"}

    def succeed(self, intent_id: str) -> dict:
        """The customer paid PaymentIntent `intent_id`: it succeeds with a charge."""
        intent = self.intents[intent_id]
        fee = round(intent["amount"] * 0.029) + 30  # Stripe's card pricing (2.9% + 30 minor units)
        balance = {"id": f"txn_{secrets.token_hex(8)}", "object": "balance_transaction", "amount": intent["amount"],
                   "currency": intent["currency"], "fee": fee, "net": intent["amount"] - fee, "type": "charge",
                   "fee_details": [{"amount": fee, "currency": intent["currency"], "type": "stripe_fee"}]}
        charge = {"id": f"ch_{secrets.token_hex(8)}", "object": "charge", "amount": intent["amount"],
                  "amount_refunded": 0, "refunded": False, "payment_intent": intent_id,
                  "currency": intent["currency"], "metadata": {}, "balance_transaction": balance}
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge)
        return self.event("payment_intent.succeeded", self._public(intent))

    def fail(self, intent_id: str) -> dict:
        intent = self.intents[intent_id]
        intent.update(status="requires_payment_method",
                      last_payment_error={"code": "card_declined", "message": "Your card was declined."})
        return self.event("payment_intent.payment_failed", self._public(intent))

    def complete_session(self, session_id: str) -> dict:
        """The customer paid on the hosted page of `session_id`."""
        session = self.sessions[session_id]
        self.succeed(session["payment_intent"])
        session.update(status="complete", payment_status="paid")
        return self.event("checkout.session.completed", session)

    def _public(self, intent: dict, expand: list | tuple = ()) -> dict:
        """`intent` as the API shows it: latest_charge (and its balance_transaction) as ids unless
        expanded ("latest_charge", "latest_charge.balance_transaction")."""
        charge = intent.get("latest_charge")
        if not isinstance(charge, dict) or "latest_charge" not in {path.split(".")[0] for path in expand}:
            return {**intent, "latest_charge": charge["id"] if isinstance(charge, dict) else charge}
        return {**intent, "latest_charge": self._charge(charge, "latest_charge.balance_transaction" in expand)}

    @staticmethod
    def _charge(charge: dict, expand_balance: bool = False) -> dict:
        balance = charge["balance_transaction"]
        return {**charge, "balance_transaction": balance if expand_balance else balance["id"]}

    # --- The API ---------------------------------------------------------------------------------

    def api(self, method: str, path: str, params: dict, key: str | None) -> tuple[int, dict]:
        self.requests.append((method, path, params))
        if key and key in self.replies:
            return self.replies[key]
        if self.fail_with:
            reply = self.fail_with.pop(0), {"error": {"type": "api_error", "message": "Something went wrong."}}
        else:
            reply = self._route(method, path, params)
        if key and method == "POST":
            self.replies[key] = reply
        return reply

    def _route(self, method, path, params):
        if method == "POST" and path == "/v1/payment_intents":
            return 200, self._new_intent(int(params["amount"]), params["currency"], params.get("metadata", {}))
        if method == "GET" and path == "/v1/payment_intents":
            since = int(params.get("created", {}).get("gte", 0))
            expand = [path.removeprefix("data.") for path in params.get("expand", [])]
            data = [self._public(intent, expand) for intent in reversed(self.intents.values())
                    if intent["created"] >= since]
            return 200, {"object": "list", "data": data, "has_more": False, "url": path}
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            intent = self.intents.get(path.rsplit("/", 1)[-1])
            if intent is None:
                return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                       "message": "No such payment_intent", "param": "intent"}}
            return 200, self._public(intent, params.get("expand", []))
        if method == "POST" and path == "/v1/checkout/sessions":
            item = params["line_items"][0]
            amount = int(item["price_data"]["unit_amount"]) * int(item["quantity"])
            intent = self._new_intent(amount, item["price_data"]["currency"],
                                      params.get("payment_intent_data", {}).get("metadata", {}))
            session_id = f"cs_test_{secrets.token_hex(10)}"
            session = {"id": session_id, "object": "checkout.session", "url": f"{self.base}/pay/{session_id}",
                       "amount_total": amount, "currency": intent["currency"], "status": "open",
                       "payment_status": "unpaid", "payment_intent": intent["id"],
                       "client_reference_id": params.get("client_reference_id"),
                       "success_url": params["success_url"], "metadata": params.get("metadata", {})}
            self.sessions[session_id] = session
            return 200, session
        if method == "POST" and path == "/v1/refunds":
            intent = self.intents.get(params.get("payment_intent", ""))
            charge = intent and intent.get("latest_charge")
            if not isinstance(charge, dict):
                return 400, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                       "message": "No such payment_intent", "param": "payment_intent"}}
            amount = int(params.get("amount") or charge["amount"] - charge["amount_refunded"])
            if amount > charge["amount"] - charge["amount_refunded"]:
                return 400, {"error": {"type": "invalid_request_error", "code": "amount_too_large",
                                       "message": "Refund amount is greater than unrefunded amount on charge",
                                       "param": "amount"}}
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            refund = {"id": f"re_{secrets.token_hex(8)}", "object": "refund", "amount": amount,
                      "payment_intent": intent["id"], "charge": charge["id"], "status": "succeeded"}
            self.refunds[refund["id"]] = refund
            self.event("charge.refunded", self._charge(charge))
            return 200, refund
        if method == "GET" and path == "/v1/events":
            return 200, {"object": "list", "data": list(reversed(self.events)), "has_more": False, "url": path}
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})."}}

    def _new_intent(self, amount: int, currency: str, metadata: dict) -> dict:
        intent_id = f"pi_{secrets.token_hex(10)}"
        intent = {"id": intent_id, "object": "payment_intent", "amount": amount, "amount_received": 0,
                  "currency": currency, "status": "requires_payment_method", "metadata": metadata,
                  "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}", "created": int(time.time()),
                  "latest_charge": None}
        self.intents[intent_id] = intent
        return intent

    # --- The hosted page --------------------------------------------------------------------------

    def pay_page(self, session_id: str) -> str:
        session = self.sessions[session_id]
        return (f"<!doctype html><title>Fake Stripe Checkout</title><h1>Pay {session['amount_total']} "
                f"{session['currency']}</h1><form method=post><button>Pay</button></form>")

    def pay(self, session_id: str) -> str:
        """The customer pays on the hosted page: the webhook goes to the shop; returns success_url."""
        event = self.complete_session(session_id)
        if self.webhook_url:
            body, headers = self.signed(event)
            requests.post(self.webhook_url, data=body, headers=headers, timeout=30)
        return self.sessions[session_id]["success_url"]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, payload: dict, replayed: bool = False):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
                if replayed:
                    self.send_header("Idempotent-Replayed", "true")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _serve(self, method):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else url.query
                if url.path.startswith("/pay/"):
                    return self._page(method, url.path.rsplit("/", 1)[-1])
                if fake.delay:
                    time.sleep(fake.delay)
                key = self.headers.get("Idempotency-Key")
                with fake.lock:
                    replayed = bool(key and key in fake.replies)
                    status, payload = fake.api(method, url.path, decode_form(body), key)
                self._reply(status, payload, replayed)

            def _page(self, method, session_id):
                if method == "POST":
                    target = fake.pay(session_id)
                    self.send_response(303)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = fake.pay_page(session_id).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        return Handler
