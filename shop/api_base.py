"""Building blocks every app's API shares: the error body for the schema, input serializers that
hold JSON bodies to the schema's types, and strict page numbers. (shop/api.py mounts the apps'
APIs and turns errors into the error body.)"""
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import parsers, permissions, serializers
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.pagination import PageNumberPagination

from shop.security import check_json


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with 400 (ParseError) what shop.security.check_json refuses:
    nesting deeper than SHOP_JSON_MAX_DEPTH (past ~1000 levels Python's own parser raised
    RecursionError, a 500), NUL and lone surrogates in strings."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            check_json(data)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        return data


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


def staff_rule_schema(serializer, *, destroy: bool = False):
    """The `@extend_schema_view` of a staff rules viewset (vouchers, tax rates, shipping zones, gift
    cards): list, retrieve, create, update and partial_update answer `serializer`, and the error
    shapes each may give; with `destroy`, delete answers 204."""
    views = {
        "list": extend_schema(responses={200: serializer(many=True), **error_responses(401, 403, 404, 429)}),
        "retrieve": extend_schema(responses={200: serializer, **error_responses(401, 403, 404, 429)}),
        "create": extend_schema(responses={201: serializer, **error_responses(400, 401, 403, 429)}),
        "update": extend_schema(responses={200: serializer, **error_responses(400, 401, 403, 404, 429)}),
        "partial_update": extend_schema(responses={200: serializer, **error_responses(400, 401, 403, 404, 429)}),
    }
    if destroy:
        views["destroy"] = extend_schema(responses={204: None, **error_responses(401, 403, 404, 429)})
    return extend_schema_view(**views)


URI_TOO_LONG = {
    "description": "URI Too Long: the URL (path and query string) is longer than the shop accepts "
                   "(SHOP_MAX_URI_BYTES, 4094 bytes, gunicorn's request-line limit). Past the web server's own "
                   "limits (gunicorn: a 4094-byte request line; nginx: 8 KB) the server answers before the API "
                   "is reached, with an HTML page; otherwise the API does, in the JSON error shape.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                "text/html": {"schema": {"type": "string"}}},
}


def document_uri_too_long(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): every
    operation may be answered 414 by gunicorn or nginx, so the schema says so on each."""
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("414", URI_TOO_LONG)
    return result


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


class StaffPagination(StrictPageNumberPagination):
    page_size = 50


class StaffRulesAPI:
    """What every staff rules viewset shares: staff only, JSON bodies held to the schema, no query
    filters, numeric ids, 50 a page (mix in before DRF's viewset classes)."""

    permission_classes = [permissions.IsAdminUser]
    pagination_class = StaffPagination
    parser_classes = [JSONParser]
    filter_backends: list = []
    lookup_value_regex = r"[0-9]{1,18}"
