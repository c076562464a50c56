"""The outbox in the back office: what is pending, sent or failed, with the last error, and an
action that retries failed messages. Messages are never edited by hand."""
from django.contrib import admin, messages

from . import services
from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "attempts", "created_at", "available_at", "done_at", "error"]
    list_filter = ["status", "kind"]
    search_fields = ["kind", "last_error"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Message._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="last error")
    def error(self, obj: Message) -> str:
        return obj.last_error[:80]

    @admin.action(description="Retry the selected failed messages", permissions=["change"])
    def retry(self, request, queryset) -> None:
        count = services.retry_failed(message_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} failed message(s) queued again.",
                          messages.SUCCESS if count else messages.WARNING)
