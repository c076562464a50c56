"""Support chat: a conversation between one shopper (a customer, or a guest's session) and staff,
its messages, and the staff's canned replies.

Unread counts come from last-read markers (the id of the last message each side has seen), so
that reading is one UPDATE and counting one filtered COUNT."""
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models


class ConversationQuerySet(models.QuerySet):
    """Named filters of the inbox."""

    def open(self) -> "ConversationQuerySet":
        """Conversations still open."""
        return self.filter(status=Conversation.Status.OPEN)

    def closed(self) -> "ConversationQuerySet":
        """Conversations staff closed."""
        return self.filter(status=Conversation.Status.CLOSED)


class Conversation(models.Model):
    """One support thread. A guest's is found through their session (which stores its id), a
    customer's through `customer`; it moves to the customer when the guest logs in."""

    class Status(models.TextChoices):
        """Open until staff close it."""

        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="conversations",
                                 on_delete=models.SET_NULL)
    session_key = models.CharField(max_length=40, blank=True, help_text="The guest's session when last seen "
                                   "(the staff's side panel reads the guest's cart from it).")
    email = models.EmailField(blank=True, help_text="Where replies and the transcript go (a guest gives it).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="assigned_chats",
                                    on_delete=models.SET_NULL)
    order = models.ForeignKey("orders.Order", null=True, blank=True, related_name="conversations",
                              on_delete=models.SET_NULL, help_text="The order the shopper is asking about.")
    email_replies = models.BooleanField(default=False, help_text="The shopper wrote while no staff member was "
                                        "online: staff replies also go out by email.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    shopper_last_read = models.PositiveBigIntegerField(default=0, help_text="Id of the last message the shopper saw.")
    staff_last_read = models.PositiveBigIntegerField(default=0, help_text="Id of the last message staff saw.")

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="chat_conversation_customer")]

    def __str__(self) -> str:
        return f"Conversation {self.pk} ({self.reply_to or 'guest'})"

    @property
    def reply_to(self) -> str:
        """The shopper's email address: the one given, else the customer's ('' when none)."""
        if self.email:
            return self.email
        return self.customer.email if self.customer_id else ""

    @property
    def is_open(self) -> bool:
        """Whether staff can still write into it (a shopper's message to a closed one starts a new one)."""
        return self.status == self.Status.OPEN


class Message(models.Model):
    """One chat message: plain text, never HTML (templates escape it; links are made clickable by
    `urlize` on the escaped text)."""

    class Author(models.TextChoices):
        """Which side wrote it."""

        SHOPPER = "shopper", "Shopper"
        STAFF = "staff", "Staff"

    conversation = models.ForeignKey(Conversation, related_name="messages", on_delete=models.CASCADE)
    author = models.CharField(max_length=10, choices=Author.choices)
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                    on_delete=models.SET_NULL)
    body = models.TextField(validators=[MaxLengthValidator(10_000)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["conversation", "id"], name="chat_message_conversation")]

    def __str__(self) -> str:
        return f"{self.get_author_display()}: {self.body[:40]}"

    def as_event(self) -> dict:
        """The socket message: {"type": "message", "conversation", "id", "author": "shopper" |
        "staff", "body", "ts" (ISO 8601)}."""
        return {"type": "message", "conversation": self.conversation_id, "id": self.pk, "author": self.author,
                "body": self.body, "ts": self.created_at.isoformat()}


class CannedReply(models.Model):
    """A ready-made answer staff can insert into a reply (edited in the admin)."""

    title = models.CharField(max_length=80)
    body = models.TextField(max_length=2000)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title
