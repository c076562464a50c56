"""An outbox message: one side effect that must happen because a transaction committed.

`kind` names what to do ("orders.order_email"); a handler registered for it (outbox.registry)
does it with `payload` (JSON: ids and short strings, never whole rows, so the handler reads the
rows as they are when it runs). A message is pending until its handler succeeds (sent) or has
failed settings.OUTBOX_MAX_ATTEMPTS times (failed).
"""
from django.db import models
from django.db.models import Q
from django.utils import timezone


class MessageQuerySet(models.QuerySet):
    def pending(self) -> "MessageQuerySet":
        return self.filter(status=Message.Status.PENDING)

    def due(self, now=None) -> "MessageQuerySet":
        """Pending messages whose next attempt may happen now (not waiting out a retry back-off)."""
        return self.pending().filter(available_at__lte=now or timezone.now())


class Message(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=100, help_text="What to do: the name of a registered handler.")
    payload = models.JSONField(default=dict, help_text="The handler's keyword arguments.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times the handler ran (and failed, unless sent).")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    available_at = models.DateTimeField(default=timezone.now, help_text="No attempt before this (retry back-off).")
    relayed_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker.")
    done_at = models.DateTimeField(null=True, blank=True, help_text="Sent, or given up, at.")
    last_error = models.TextField(blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [
            # The relay's question, asked every few seconds: pending messages that are due.
            models.Index(fields=["available_at"], condition=Q(status="pending"), name="outbox_pending_due"),
            models.Index(fields=["kind", "status"], name="outbox_kind_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
