"""django-oscar 4.2 project for benchmarks/peer_oscar.py: the peer a Django shop owner would otherwise
pick, set up the way Oscar's "Building your own shop" guide (docs/source/internals/getting_started.rst)
and its sandbox (sandbox/settings.py) do it, in production mode. It runs in its own venv
(.bench/oscar-venv, benchmarks/requirements-oscar.txt) and never imports iShop.

Choices, each as Oscar documents or ships it:
- PostgreSQL (DATABASE_URL) with ATOMIC_REQUESTS, which the guide recommends, and persistent
  connections (CONN_MAX_AGE 60, as iShop's benchmark server).
- Django's Redis cache (REDIS_URL, the same Redis as iShop, under its own key prefix). Oscar itself
  caches little (category slugs); its default thumbnailer, sorl-thumbnail, keeps the name and size of
  every thumbnail in its cached_db key-value store (the sandbox's THUMBNAIL_KVSTORE): the cache first,
  the database behind it. With a shared cache, both gunicorn workers find the warmed thumbnails.
- Search: Haystack with Whoosh, the sandbox's engine. Oscar 4.2 browses its catalogue and categories
  through Haystack too, and Haystack's "simple" engine ignores the category filter; Solr, which the
  guide calls the production engine, is a Java server that is not installable from a package registry.
- Spelling suggestions off (the sandbox turns them on): Haystack's Whoosh backend computes them for
  every listing too, from the browse filters ("true", "parent"...), and that took over half of the
  catalogue page's time in a profile here; Solr, where a shop would use them, does it cheaply. So
  Oscar's search page shows no "Did you mean" where iShop's does.
- No full-page cache (the measurement is of uncached pages) and Django's cached template loader
  (the default with DEBUG off; the sandbox's explicit loaders would turn it off).
- OSCAR_PRODUCTS_PER_PAGE = 24: the same number of product cards per listing page as iShop.

Environment: DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY, OSCAR_BENCH_STATE (folder holding media/,
static/ and whoosh/), OSCAR_SERVE_MEDIA=true to let Django serve the photos (for a look in a browser;
off while measuring, as nginx would serve them).
"""
import os
from pathlib import Path
from urllib.parse import urlsplit

from oscar.defaults import *  # noqa: F401,F403  (the guide's first step)

STATE = Path(os.environ.get("OSCAR_BENCH_STATE", Path(__file__).resolve().parents[2] / ".bench" / "oscar"))

DEBUG = os.environ.get("DJANGO_DEBUG", "false").lower() == "true"
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SITE_ID = 1
ROOT_URLCONF = "oscar_site.urls"
WSGI_APPLICATION = "oscar_site.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"

_db = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/oscar_bench"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "postgres",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "127.0.0.1",
        "PORT": str(_db.port or 5432),
        "ATOMIC_REQUESTS": True,
        "CONN_MAX_AGE": 60,  # seconds
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "oscar-bench"),
    }
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "sorl.thumbnail",
    "django_tables2",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ],
        },
    }
]

AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)

STATIC_URL = "/static/"
STATIC_ROOT = STATE / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = STATE / "media"
SERVE_MEDIA = os.environ.get("OSCAR_SERVE_MEDIA", "false").lower() == "true"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": str(STATE / "whoosh"),
        "INCLUDE_SPELLING": False,
    }
}
# The loader writes thousands of rows and indexes once at the end; the server indexes each change.
HAYSTACK_SIGNAL_PROCESSOR = os.environ.get("HAYSTACK_SIGNAL_PROCESSOR", "haystack.signals.RealtimeSignalProcessor")

THUMBNAIL_DEBUG = False
THUMBNAIL_KEY_PREFIX = "oscar-bench"
THUMBNAIL_KVSTORE = "sorl.thumbnail.kvstores.cached_db_kvstore.KVStore"

OSCAR_SHOP_NAME = "Luma on Oscar"
OSCAR_DEFAULT_CURRENCY = "USD"
OSCAR_PRODUCTS_PER_PAGE = 24
OSCAR_ALLOW_ANON_CHECKOUT = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
