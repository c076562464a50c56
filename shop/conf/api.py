"""The integrator API (issue 5): DRF, JWT and the OpenAPI schema."""
from datetime import timedelta


def rest_framework(*, throttle_rates: dict[str, str]) -> dict:
    """REST_FRAMEWORK. `throttle_rates`: requests per period ("100/minute") for the "anon",
    "user" and "auth" scopes (the "auth" scope covers register, token and refresh)."""
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "rest_framework_simplejwt.authentication.JWTAuthentication",
            "rest_framework.authentication.SessionAuthentication",  # the browsable API and the shop's pages
        ],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
        # JSON with a depth limit (shop.api_base.JSONParser); uploads name their multipart parser.
        "DEFAULT_PARSER_CLASSES": ["shop.api_base.JSONParser"],
        "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        "EXCEPTION_HANDLER": "shop.api.exception_handler",
        "DEFAULT_THROTTLE_CLASSES": [
            "shop.throttling.AnonThrottle",
            "shop.throttling.UserThrottle",
        ],
        "DEFAULT_THROTTLE_RATES": throttle_rates,
    }


def simple_jwt(*, access_seconds: int, refresh_seconds: int) -> dict:
    """SIMPLE_JWT: token lifetimes in seconds; a refresh token is used once (rotated, blacklisted)."""
    return {
        "ACCESS_TOKEN_LIFETIME": timedelta(seconds=access_seconds),
        "REFRESH_TOKEN_LIFETIME": timedelta(seconds=refresh_seconds),
        "ROTATE_REFRESH_TOKENS": True,
        "BLACKLIST_AFTER_ROTATION": True,  # a used refresh token cannot be used again
        "UPDATE_LAST_LOGIN": True,
        "AUTH_HEADER_TYPES": ("Bearer",),
    }


def spectacular() -> dict:
    """SPECTACULAR_SETTINGS: the OpenAPI schema of /api/v1 and its documentation pages."""
    return {
        "TITLE": "iShop API",
        "DESCRIPTION": "The integrator API. Errors are always {\"detail\", \"code\", \"fields\"}.",
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
        "COMPONENT_SPLIT_REQUEST": True,
        "SCHEMA_PATH_PREFIX": r"/api/v1",
        "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "orders.models.Order.Status",
                                "VoucherKindEnum": "promotions.models.Voucher.Kind",
                                "GiftCardTransactionKindEnum": "giftcards.models.GiftCardTransaction.Kind"},
        # Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN; its start-up
        # script is a separate file (SpectacularSwaggerSplitView), so the CSP needs no inline script.
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        # Issue 21: gunicorn and nginx answer 414 to an over-long request line; every operation says so.
        "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                                 "shop.api_base.document_uri_too_long"],
    }
