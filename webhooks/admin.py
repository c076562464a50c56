"""Webhook endpoints in the admin: create (the secret is shown once, in the message after saving),
change, and the actions send a test event, redeliver failed deliveries (of the last day), rotate
the secret (the new one shown once). Deliveries are listed with their attempts and can be sent
again. Every change goes through webhooks.services."""
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from . import services
from .models import EVENT_TYPES, Attempt, Delivery, Endpoint


class EndpointForm(forms.ModelForm):
    """The endpoint's URL, event types (none ticked: every type), switch and description."""

    url = forms.URLField(max_length=2000, assume_scheme="https", help_text="Where events are POSTed.")
    events = forms.MultipleChoiceField(choices=[(kind, kind) for kind in EVENT_TYPES], required=False,
                                       widget=forms.CheckboxSelectMultiple, help_text="None ticked: every event type.")

    class Meta:
        model = Endpoint
        fields = ["url", "events", "is_active", "description"]


class DeliveryInline(admin.TabularInline):
    """The endpoint's latest deliveries, read-only (the Deliveries list shows them all)."""

    model = Delivery
    extra = 0
    fields = ["created_at", "event", "status", "attempts", "last_status_code", "last_error", "next_attempt_at"]
    readonly_fields = fields
    can_delete = False
    ordering = ["-pk"]
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event")


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "is_active", "disabled_at", "consecutive_failures", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["consecutive_failures", "disabled_at", "previous_secret_expires_at", "created_at"]
    inlines = [DeliveryInline]
    actions = ["send_test_event", "redeliver_failed", "rotate_secret"]

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ("url", "events", "is_active", "description")}
        if change:
            services.update_endpoint(endpoint=obj, **data)
            return
        created = services.create_endpoint(**data)
        obj.pk = created.pk
        messages.warning(request, f"The endpoint's signing secret, shown this once: {created.secret}")

    def delete_model(self, request, obj):
        services.delete_endpoint(endpoint=obj)

    @admin.action(description="Send a test event")
    def send_test_event(self, request, queryset):
        for endpoint in queryset:
            services.send_test(endpoint=endpoint)
        messages.success(request, f"Test event sent to {queryset.count()} endpoint(s).")

    @admin.action(description="Redeliver failed deliveries of the last 24 hours")
    def redeliver_failed(self, request, queryset):
        since = timezone.now() - timedelta(days=1)
        count = sum(len(services.redeliver(endpoint=endpoint, failed_since=since)) for endpoint in queryset)
        messages.success(request, f"{count} failed delivery(ies) queued again.")

    @admin.action(description="Rotate the signing secret")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            secret = services.rotate_secret(endpoint=endpoint)
            messages.warning(request, f"New secret of {endpoint.url}, shown this once "
                                      f"(the old one signs too for a while): {secret}")


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    fields = ["number", "started_at", "duration", "response_status", "response_body", "error", "outcome"]
    readonly_fields = fields
    can_delete = False
    ordering = ["number"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["pk", "endpoint", "event", "status", "attempts", "last_status_code", "created_at", "done_at"]
    list_filter = ["status", "event__type"]
    list_select_related = ["endpoint", "event"]
    readonly_fields = ["endpoint", "event", "uid", "status", "attempts", "next_attempt_at", "retry_until",
                       "relayed_at", "last_status_code", "last_error", "created_at", "done_at"]
    fields = readonly_fields
    inlines = [AttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Redeliver (same webhook-id)")
    def redeliver(self, request, queryset):
        count = 0
        for endpoint in Endpoint.objects.filter(pk__in=queryset.values("endpoint_id")):
            count += len(services.redeliver(endpoint=endpoint, delivery_ids=queryset.filter(
                endpoint=endpoint).values_list("pk", flat=True)))
        messages.success(request, f"{count} delivery(ies) queued again.")
