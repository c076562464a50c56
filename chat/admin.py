"""Chat in the admin: canned replies are edited here; conversations can be looked at."""
from django.contrib import admin

from .models import CannedReply, Conversation, Message


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    """The staff's ready-made answers, in `position` order."""

    list_display = ["title", "position"]
    list_editable = ["position"]


class MessageInline(admin.TabularInline):
    """A conversation's messages, read-only."""

    model = Message
    fields = ["created_at", "author", "author_user", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Conversations, read-only (staff answer them at /staff/chat/)."""

    list_display = ["pk", "customer", "email", "status", "assigned_to", "created_at", "last_message_at"]
    list_filter = ["status"]
    search_fields = ["email", "customer__email"]
    raw_id_fields = ["customer", "assigned_to", "order"]
    readonly_fields = ["created_at", "first_response_at", "closed_at", "last_message_at"]
    inlines = [MessageInline]
