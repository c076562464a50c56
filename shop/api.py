"""Mounts every app's API under /api/v1/, and gives every API error one JSON shape.

Errors: `{"detail": str, "code": str, "fields": {field: [messages]}}` (shop.api_base.ErrorSerializer), for
DRF's own errors (exception_handler), for unknown URLs under /api/ (not_found) and for a crash
(server_error), so that an integrator never gets an HTML page.
"""
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views import defaults


def _first_message(data) -> str:
    """The first message found in a (nested) DRF error structure."""
    if isinstance(data, dict):
        for value in data.values():
            if message := _first_message(value):
                return message
        return ""
    if isinstance(data, list):
        for value in data:
            if message := _first_message(value):
                return message
        return ""
    return str(data) if data is not None else ""


def _field_errors(data) -> dict:
    """Nested list/dict errors keyed by dotted field path: {"items.0.quantity": [...]}."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "non_field_errors" and prefix:  # an error about the list or object itself
                    walk(prefix, inner)
                else:
                    walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            flat[prefix or "non_field_errors"] = [str(v) for v in value]
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                if inner:
                    walk(f"{prefix}.{index}" if prefix else str(index), inner)
        elif value:
            flat[prefix or "non_field_errors"] = [str(value)]

    walk("", data)
    return flat


def exception_handler(exc, context):
    """Every API error as {"detail": str, "code": str, "fields": {field: [messages]}}, never HTML.

    Validation errors list each failing field under its dotted path ("items.0.quantity").
    """
    from rest_framework.exceptions import ValidationError
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        data = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": _first_message(data) or "Invalid input.", "code": "invalid",
                         "fields": _field_errors(data)}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": _first_message(detail), "code": str(code), "fields": {}}
    return response


def not_found(request: HttpRequest, exception=None):
    """handler404: the error shape under /api/, the shop's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "code": "not_found", "fields": {}}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest):
    """handler500: the error shape under /api/, the shop's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Something went wrong on our side.", "code": "server_error", "fields": {}},
                            status=500)
    return defaults.server_error(request)


urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("promotions.api.urls")),
    path("", include("giftcards.api.urls")),
    path("", include("webhooks.api.urls")),  # issue 28: staff webhook endpoints and deliveries
    path("", include("recommendations.api")),  # issue 27: POST /api/v1/recommendations
    path("analytics/", include("analytics.api.urls")),
]
