"""Outgoing webhooks (issue 28): the shop's domain events, signed per Standard Webhooks, delivered
to integrators' endpoints from a Celery queue of their own, retried for a day, replayable.

    webhooks.events     what domain services call, inside their transaction (publish_order, ...)
    webhooks.services   endpoints, secrets, the delivery of one attempt, retries, redelivery
    webhooks.sender     signing and the SSRF-safe POST
"""
