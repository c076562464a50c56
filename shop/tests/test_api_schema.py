"""The OpenAPI schema generates without a warning or error and validates against the OpenAPI 3
specification (drf-spectacular's own validator)."""
from django.core.management import call_command


def test_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "/api/v1/orders/" in text and "Idempotency-Key" in text


def test_every_operation_documents_the_servers_414(client):
    """gunicorn (limit_request_line 4094) and nginx answer 414 before the API, and the shop itself
    past SHOP_MAX_URI_BYTES (under daphne); the schema says so on every operation."""
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    operations = [(path, method, operation) for path, item in schema["paths"].items()
                  for method, operation in item.items() if isinstance(operation, dict) and "responses" in operation]
    assert len(operations) >= 30
    for path, method, operation in operations:
        assert "414" in operation["responses"], (method, path)
        assert set(operation["responses"]["414"]["content"]) == {"text/html", "application/json"}
    from gunicorn.config import Config

    assert Config().limit_request_line == 4094  # the figure the description gives
    from django.conf import settings

    assert settings.SHOP_MAX_URI_BYTES == 4094
    long = client.get("/api/v1/products/?search=" + "x" * 4100)
    assert long.status_code == 414 and long.json()["code"] == "uri_too_long"
