"""The outbox in the back office: what is pending, sent or failed, with the last error, and an
action that retries failed messages. Messages are never edited or deleted by hand (sent ones are
purged after OUTBOX_KEEP_SENT_DAYS)."""
from django.contrib import admin, messages

from . import services
from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "attempts", "created_at", "error"]
    list_filter = ["status", "kind"]
    search_fields = ["kind", "last_error"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Message._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Read only: no save buttons (the change permission is what the retry action needs)."""
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False}
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description="last error")
    def error(self, obj: Message) -> str:
        return obj.last_error[:80]

    @admin.action(description="Retry the selected failed messages", permissions=["change"])
    def retry(self, request, queryset) -> None:
        count = services.retry_failed(message_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} failed message(s) queued again.",
                          messages.SUCCESS if count else messages.WARNING)
