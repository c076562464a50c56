"""Staff API shapes of webhooks: an endpoint (its secret only in the answers to create and
rotate-secret), its deliveries with their attempts, and the redeliver request."""
from rest_framework import serializers

from shop.api_base import StrictJSONSerializer
from webhooks.models import EVENT_TYPES, Attempt, Delivery, Endpoint


class EndpointSerializer(serializers.ModelSerializer):
    """A webhook endpoint. `events` empty: every event type. `disabled_at` is set when it was
    switched off after WEBHOOK_DISABLE_AFTER_FAILURES failed attempts in a row."""

    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), max_length=len(EVENT_TYPES))

    class Meta:
        model = Endpoint
        fields = ["id", "url", "description", "events", "is_active", "consecutive_failures", "disabled_at",
                  "created_at", "updated_at"]
        read_only_fields = fields


class EndpointWithSecretSerializer(EndpointSerializer):
    """An endpoint with its signing secret ("whsec_..."): shown once, when created or rotated."""

    secret = serializers.CharField(help_text="Keep it: it is never shown again.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointWriteSerializer(StrictJSONSerializer):
    """What a client sets: `url` (http or https), `events` (empty or left out: all), `is_active`
    (true also re-enables an endpoint disabled after failures), `description`."""

    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), required=False,
                                   max_length=len(EVENT_TYPES))
    is_active = serializers.BooleanField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate_url(self, url: str) -> str:
        if not url.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("The URL must start with http:// or https://.")
        return url


class AttemptSerializer(serializers.ModelSerializer):
    """One HTTP try: `duration` in seconds, `response_body` the first 1 KB of the answer."""

    class Meta:
        model = Attempt
        fields = ["number", "started_at", "duration", "request_headers", "request_body", "response_status",
                  "response_body", "error", "outcome"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    """One event owed to the endpoint: `message_id` is its webhook-id header, `sequence` the
    event's sequence number; `attempts` newest first."""

    message_id = serializers.CharField()
    event_id = serializers.CharField(source="event.public_id")
    event_type = serializers.CharField(source="event.type")
    sequence = serializers.IntegerField(source="event_id")
    attempt_log = AttemptSerializer(many=True)

    class Meta:
        model = Delivery
        fields = ["id", "message_id", "event_id", "event_type", "sequence", "status", "attempts", "next_attempt_at",
                  "last_status_code", "last_error", "created_at", "done_at", "attempt_log"]
        read_only_fields = fields


class RedeliverSerializer(StrictJSONSerializer):
    """Either `delivery_id` (one delivery, succeeded or failed) or `failed_since` (every failed
    delivery created since then)."""

    delivery_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    failed_since = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict) -> dict:
        if ("delivery_id" in attrs) == ("failed_since" in attrs):
            raise serializers.ValidationError({"delivery_id": ["Give either delivery_id or failed_since."]})
        return attrs


class RedeliverResponse(serializers.Serializer):
    redelivered = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the deliveries queued.")


class DeliveryListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=Delivery.Status.choices, required=False)
