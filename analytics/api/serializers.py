"""Input serializers of the analytics API (output is plain JSON built from selectors)."""
from datetime import timedelta

from rest_framework import serializers

from .. import selectors


class Days(serializers.Serializer):
    """?days=N (1..3660, default given by the view) and ?currency=XXX."""

    days = serializers.IntegerField(min_value=1, max_value=selectors.MAX_DAYS, required=False)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False,
                                      error_messages={"invalid": "Give an ISO 4217 code such as GBP."})
    limit = serializers.IntegerField(min_value=1, max_value=1000, required=False)


class Query(serializers.Serializer):
    """POST /api/v1/analytics/query, as in the E-commerce Platform seed."""

    start_date = serializers.DateField()
    end_date = serializers.DateField()
    metrics = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted({*selectors.SALES_METRICS, *selectors.DERIVED,
                                                      *selectors.PRODUCT_METRICS, *selectors.COUNTRY_METRICS,
                                                      "average_order_value"})),
        min_length=1, max_length=20, help_text="Which metrics a group_by offers: see the 400 answer's list.")
    group_by = serializers.ChoiceField(choices=selectors.GROUPS, default="day")
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False,
                                      error_messages={"invalid": "Give an ISO 4217 code such as GBP."})

    def validate(self, attrs: dict) -> dict:
        if attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": ["end_date must not be before start_date."]})
        if attrs["end_date"] - attrs["start_date"] >= timedelta(days=selectors.MAX_DAYS):
            raise serializers.ValidationError({"end_date": [f"A period can be at most {selectors.MAX_DAYS} days."]})
        allowed = selectors.metrics_for(attrs["group_by"])
        unknown = [m for m in attrs["metrics"] if m not in allowed]
        if unknown:
            raise serializers.ValidationError({"metrics": [
                f"Unknown metric(s) for group_by={attrs['group_by']}: {', '.join(unknown)}. "
                f"Available: {', '.join(allowed)}."]})
        return attrs
