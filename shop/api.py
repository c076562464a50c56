"""Mounts every app's API under /api/v1/."""
from django.urls import include, path

urlpatterns = [
    path("", include("catalog.api.urls")),
    path("analytics/", include("analytics.api.urls")),
]


def exception_handler(exc, context):
    """Every API error as {"detail": str, "code": str, "fields": {field: [messages]}}, never HTML."""
    from rest_framework.exceptions import ValidationError
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        fields = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        first = next(iter(fields.values()), ["Invalid input."])
        detail = first[0] if isinstance(first, list) and first else "Invalid input."
        response.data = {"detail": str(detail), "code": "invalid", "fields": fields}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"detail": str(detail), "code": getattr(detail, "code", "error"), "fields": {}}
    return response
