"""Outgoing webhooks' settings (issue 28; webhooks.services describes the rules)."""


def from_env(env) -> dict:
    """The WEBHOOK_* settings and SHOP_OWNER_EMAILS from the environment (an environ.Env):

    WEBHOOK_QUEUE                   the Celery queue of deliveries (default "webhooks"; the worker's --queues)
    WEBHOOK_ALLOW_PRIVATE_NETWORKS  deliver to loopback and private addresses (default false; tests)
    WEBHOOK_TIMEOUT                 seconds one delivery attempt may take in all (DNS to body)
    WEBHOOK_RETRY_BACKOFF           seconds before the first retry, doubling after each failure...
    WEBHOOK_RETRY_BACKOFF_MAX       ...up to this many seconds (each times a random 0.5-1)
    WEBHOOK_RETRY_FOR               seconds after the event during which a delivery is retried
    WEBHOOK_DISABLE_AFTER_FAILURES  consecutive failed attempts that disable an endpoint
    WEBHOOK_SECRET_OVERLAP          seconds the previous secret still signs after a rotation
    WEBHOOK_RELAY_INTERVAL          seconds between beat's relays of due deliveries
    WEBHOOK_RELAY_STALE_SECONDS     a delivery handed to the broker this long ago and not done is handed again
    WEBHOOK_KEEP_DAYS               days events and their deliveries are kept (beat purges older ones)
    SHOP_OWNER_EMAILS               who is emailed when an endpoint is disabled (default: active superusers)
    """
    return {
        "WEBHOOK_QUEUE": env("WEBHOOK_QUEUE", default="webhooks"),
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False),
        "WEBHOOK_TIMEOUT": env.float("WEBHOOK_TIMEOUT", default=10.0),  # seconds
        "WEBHOOK_RETRY_BACKOFF": env.float("WEBHOOK_RETRY_BACKOFF", default=30.0),  # seconds
        "WEBHOOK_RETRY_BACKOFF_MAX": env.float("WEBHOOK_RETRY_BACKOFF_MAX", default=4 * 3600.0),  # seconds
        "WEBHOOK_RETRY_FOR": env.float("WEBHOOK_RETRY_FOR", default=24 * 3600.0),  # seconds
        "WEBHOOK_DISABLE_AFTER_FAILURES": env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20),
        "WEBHOOK_SECRET_OVERLAP": env.float("WEBHOOK_SECRET_OVERLAP", default=24 * 3600.0),  # seconds
        "WEBHOOK_RELAY_INTERVAL": env.float("WEBHOOK_RELAY_INTERVAL", default=10.0),  # seconds
        "WEBHOOK_RELAY_STALE_SECONDS": env.float("WEBHOOK_RELAY_STALE_SECONDS", default=300.0),  # seconds
        "WEBHOOK_KEEP_DAYS": env.int("WEBHOOK_KEEP_DAYS", default=30),
        "SHOP_OWNER_EMAILS": env.list("SHOP_OWNER_EMAILS", default=[]),
    }
