"""Webhook endpoints, the events published to them and each delivery with its attempts.

An Event is one thing that happened (an order paid, a stock level changed), written in the
transaction of the change with the JSON the REST API shows for the object. A Delivery is that
event owed to one endpoint: pending until an attempt succeeds, failed when the endpoint refused it
for good or a day of retries ran out. Every HTTP try is an Attempt.
"""
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

EVENT_TYPES = [
    "order.created", "order.paid", "order.fulfilled", "order.delivered", "order.cancelled", "order.refunded",
    "payment.failed", "stock.changed", "stock.low", "product.created", "product.updated", "product.deleted",
    "customer.created", "review.approved", "webhook.test",
]


class EndpointQuerySet(models.QuerySet):
    def active(self) -> "EndpointQuerySet":
        """Endpoints that receive events: switched on and not disabled after failures."""
        return self.filter(is_active=True, disabled_at__isnull=True)


class Endpoint(models.Model):
    url = models.URLField(max_length=2000, help_text="Where events are POSTed (http or https).")
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, blank=True,
                              help_text="Event types sent to this endpoint; empty: every type.")
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, help_text="whsec_ + base64 key that signs deliveries.")
    previous_secret = models.CharField(max_length=100, blank=True,
                                       help_text="The secret before the last rotation; it signs too until it expires.")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0, help_text="Failed attempts since the last success.")
    disabled_at = models.DateTimeField(null=True, blank=True, help_text="Switched off after too many failures.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        """True when this endpoint subscribes to `event_type` (an empty list subscribes to all)."""
        return not self.events or event_type in self.events

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the previous one until it expires."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class Event(models.Model):
    """One domain event. Its primary key is the `sequence` receivers order by (webhooks.services)."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=50, db_index=True)
    data = models.JSONField(encoder=DjangoJSONEncoder, help_text="The object as the REST API shows it.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"

    @property
    def public_id(self) -> str:
        """The event's id in payloads: "evt_" and 32 hex digits."""
        return f"evt_{self.uid.hex}"


class DeliveryQuerySet(models.QuerySet):
    def due(self, now=None) -> "DeliveryQuerySet":
        """Pending deliveries whose next attempt may happen now."""
        return self.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now or timezone.now())


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                           help_text="The webhook-id header: the same on every attempt, so receivers can deduplicate.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    retry_until = models.DateTimeField(null=True, blank=True,
                                       help_text="No retry is scheduled past this (WEBHOOK_RETRY_FOR after the event "
                                                 "or the redelivery).")
    relayed_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker.")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True, help_text="Succeeded, or given up, at.")

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhooks_one_delivery_per_event")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhooks_pending_due"),
            models.Index(fields=["endpoint", "status", "created_at"], name="webhooks_endpoint_status"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.endpoint} ({self.status})"

    @property
    def message_id(self) -> str:
        """The webhook-id header: "msg_" and 32 hex digits."""
        return f"msg_{self.uid.hex}"


class Attempt(models.Model):
    """One HTTP try of a delivery, as sent and as answered."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(help_text="1 for the first try.")
    started_at = models.DateTimeField()
    duration = models.FloatField(help_text="Seconds from the start of the request to the end of the answer.")
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The first 1 KB of the answer.")
    error = models.TextField(blank=True)
    outcome = models.CharField(max_length=10, help_text='"succeeded", "retry" or "failed".')

    class Meta:
        ordering = ["-pk"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhooks_attempt_number")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.outcome}"
