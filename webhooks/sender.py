"""Signing and sending one delivery: the body, the Standard Webhooks headers, the SSRF-safe POST.

The body is the event as JSON, the same bytes on every attempt:

    {"id": "evt_...", "type": "order.paid", "api_version": "v1", "timestamp": "2026-...Z",
     "sequence": 1234, "data": {...the REST API's JSON of the object...}}

Headers (https://www.standardwebhooks.com): `webhook-id` (the delivery's "msg_..." id, the same on
every retry and redelivery, so receivers deduplicate), `webhook-timestamp` (this attempt's Unix
time, signed: receivers refuse old ones, which stops replays) and `webhook-signature` ("v1,<base64
HMAC-SHA256>", one per valid secret, space separated, so that during a rotation a receiver with
either secret accepts it). Signed with the `standardwebhooks` library that receivers use to verify.
"""
import json
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from standardwebhooks.webhooks import Webhook

from catalog.images.safe_fetch import FetchFailed, FetchRefused, send

API_VERSION = "v1"
RESPONSE_KEPT_BYTES = 1024  # of each answer's body, recorded with the attempt
RETRYABLE_STATUSES = frozenset({408, 429})  # and every 5xx


def body_for(*, event_id: str, event_type: str, created_at: datetime, sequence: int, data: dict) -> bytes:
    """The JSON body of an event (UTF-8 bytes, keys in a fixed order, no spaces)."""
    payload = {"id": event_id, "type": event_type, "api_version": API_VERSION,
               "timestamp": created_at.isoformat().replace("+00:00", "Z"), "sequence": sequence, "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(*, message_id: str, body: bytes, secrets: list[str], at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for `body` sent at `at`, signed with each of `secrets`
    ("whsec_..."), plus the JSON content type."""
    signatures = " ".join(Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body) for secret in secrets)
    return {"Content-Type": "application/json", "webhook-id": message_id,
            "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signatures}


@dataclass(frozen=True)
class Result:
    """One attempt's outcome: "succeeded" (2xx), "retry" (timeout, network error, 408, 429, 5xx) or
    "failed" (refused URL or address, a redirect, any other 4xx); the status and start of the body
    when there was an answer; `error` in words otherwise; `duration` in seconds."""

    outcome: str
    status: int | None
    body: str
    error: str
    duration: float


def classify(status: int) -> str:
    """The outcome of an HTTP answer with `status`: "succeeded", "retry" or "failed"."""
    if 200 <= status < 300:
        return "succeeded"
    if status >= 500 or status in RETRYABLE_STATUSES:
        return "retry"
    return "failed"


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Result:
    """POST `body` to `url` through catalog.images.safe_fetch.send: no redirects, at most
    WEBHOOK_TIMEOUT seconds, loopback and private addresses only with WEBHOOK_ALLOW_PRIVATE_NETWORKS.
    Never raises for the network or the receiver: every failure is a Result."""
    started = time.monotonic()
    try:
        answer = send(url, method="POST", body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT,
                      max_bytes=RESPONSE_KEPT_BYTES, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS)
    except FetchFailed as failure:
        return Result("retry", None, "", failure.reason, time.monotonic() - started)
    except FetchRefused as refusal:
        return Result("failed", None, "", f"refused: {refusal.reason}", time.monotonic() - started)
    outcome = classify(answer.status)
    error = ""
    if 300 <= answer.status < 400:
        error = f"redirects are not followed (HTTP {answer.status} to {answer.headers.get('location', '?')})"
    elif outcome != "succeeded":
        error = f"HTTP {answer.status}"
    return Result(outcome, answer.status, answer.body.decode("utf-8", "replace"), error[:500],
                  time.monotonic() - started)
