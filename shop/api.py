"""Mounts every app's API under /api/v1/, and gives every API error one JSON shape.

Errors: `{"detail": str, "code": str, "fields": {field: [messages]}}` (see ErrorSerializer), for
DRF's own errors (exception_handler), for unknown URLs under /api/ (not_found) and for a crash
(server_error), so that an integrator never gets an HTML page.
"""
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

class ErrorSerializer(serializers.Serializer):
    """The API's error body (documented on every operation)."""

    detail = serializers.CharField(help_text="A message that can be shown to a person.")
    code = serializers.CharField(help_text='A stable machine-readable code, e.g. "invalid", "not_found".')
    fields = serializers.DictField(child=serializers.JSONField(), help_text="Messages per input field.")


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`@extend_schema(responses=...)` entries for error statuses, all in the error shape."""
    descriptions = {400: "Invalid input", 401: "Not logged in", 402: "Payment declined", 403: "Not allowed",
                    404: "Not found", 409: "Conflict with the current state", 422: "Idempotency key reused",
                    429: "Too many requests"}
    return {status: OpenApiResponse(ErrorSerializer, description=descriptions.get(status, "Error"))
            for status in statuses}


# JSON types each kind of field accepts. DRF is lenient (a CharField takes 5, a BooleanField takes
# 0 or "yes"); the schema promises the JSON types, so JSON bodies are held to them.
_JSON_TYPES = [
    (serializers.BooleanField, (bool,)),
    (serializers.DecimalField, (str,)),  # prices travel as decimal strings, as the API answers them
    (serializers.IntegerField, (int,)),
    (serializers.FloatField, (int, float)),
    (serializers.ChoiceField, (str,)),
    (serializers.CharField, (str,)),  # EmailField, SlugField, RegexField too
    (serializers.ListField, (list,)),
    (serializers.ManyRelatedField, (list,)),
    (serializers.PrimaryKeyRelatedField, (int,)),
    (serializers.DictField, (dict,)),
    (serializers.JSONField, (dict, list, str, int, float, bool)),
]


def _json_type_error(field, value) -> str | None:
    if value is None:
        return None if field.allow_null else "This field may not be null."
    if isinstance(field, serializers.BaseSerializer):
        expected = (list,) if isinstance(field, serializers.ListSerializer) else (dict,)
    else:
        expected = next((types for kind, types in _JSON_TYPES if isinstance(field, kind)), None)
    if expected is None:
        return None
    if isinstance(value, bool) and bool not in expected:
        return f"Expected {' or '.join(t.__name__ for t in expected)}, not a boolean."
    if not isinstance(value, expected):
        return f"Expected {' or '.join(t.__name__ for t in expected)}, not {type(value).__name__}."
    child = getattr(field, "child_relation", None) or getattr(field, "child", None)
    if child is not None and not isinstance(field, serializers.BaseSerializer):
        items = value.values() if isinstance(value, dict) else value
        return next((message for item in items if (message := _json_type_error(child, item))), None)
    return None


class StrictJSONSerializer(serializers.Serializer):
    """An input serializer that refuses values of the wrong JSON type (5 for a string, 0 for a
    boolean, {} for a list) instead of converting them, so the API does what its schema says."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            for field in self._writable_fields:
                if field.field_name in data and (message := _json_type_error(field, data[field.field_name])):
                    errors[field.field_name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictJSONModelSerializer(StrictJSONSerializer, serializers.ModelSerializer):
    """StrictJSONSerializer for model writes."""


class StrictPageNumberPagination(PageNumberPagination):
    """Page-number pagination that answers 404 for a `page` that is not a whole number from 1
    (DRF reads an empty or unknown value as page 1, which the schema's integer does not allow)."""

    last_page_strings = ()

    def get_page_number(self, request, paginator):
        value = request.query_params.get(self.page_query_param)
        if value is not None and not (value.isdigit() and value.isascii() and int(value) >= 1):
            raise NotFound("Invalid page.")
        return super().get_page_number(request, paginator)


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


# Last, because the apps' API modules import the helpers above.
urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("orders.api.urls")),
]
