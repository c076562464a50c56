"""Top-level URLs: storefront apps, accounts, admin, and media in local development."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from chat import urls as chat_urls

from . import observability, views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    # Operations (issue 8): readiness probe and Prometheus metrics (restricted, see observability).
    path("ready/", views.ready, name="ready"),
    path("metrics", observability.metrics, name="metrics"),
    path("", include("catalog.urls")),  # the storefront's busiest pages are resolved first
    path("admin/", admin.site.urls),
    path("api/v1/", include("shop.api")),
    # Issue 5: the OpenAPI schema and its Swagger UI.
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("ws/stats/", views.websocket_stats, name="ws-stats"),
    path("staff/chat/", include(chat_urls.staff_urlpatterns)),  # issue 29: support chat
    path("staff/", include("analytics.urls")),
    path("chat/", include("chat.urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("orders.urls")),
    path("", include("payments.urls")),  # issue 25: webhook, test provider page, retry
    path("", include("recommendations.urls")),  # issue 27: the product page's rails
]

if settings.SERVE_MEDIA:
    # Only where nothing (nginx) serves MEDIA_ROOT: the laptop default and the browser tests.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", views.media)]

# Issue 5: unknown URLs and crashes under /api/ answer in the API's JSON error shape, never HTML.
handler404 = "shop.api.not_found"
handler500 = "shop.api.server_error"
