"""The OpenAPI schema generates without a warning or error and validates against the OpenAPI 3
specification (drf-spectacular's own validator)."""
from django.core.management import call_command


def test_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "/api/v1/orders/" in text and "Idempotency-Key" in text
