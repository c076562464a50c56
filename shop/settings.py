"""iShop settings. Every knob comes from the environment (django-environ).

With nothing set you get the embedded default for a laptop: SQLite in the project folder, the
local-memory cache, the in-memory channel layer and Celery running tasks eagerly.
`DATABASE_URL` (postgres://...) and `REDIS_URL` (redis://...) switch on the real services.
The README lists every variable.
"""
import os
from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers
from django.core.exceptions import ImproperlyConfigured

from shop.conf import api, auth, caches, chat, database, logs, pricing, security, storage, tasks, webhooks

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-not-for-production")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
else:
    # Production refuses to start on defaults: a guessable key or an open Host header is a hole.
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("DJANGO_DEBUG=false needs DJANGO_SECRET_KEY (at least 32 characters).")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_DEBUG=false needs DJANGO_ALLOWED_HOSTS (comma separated).")

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "shop.admin_site.ShopAdminConfig",  # django.contrib.admin with the shop's site (guarded login)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "shop",
    "branding",  # issue 23: the admin's "Site settings" (name, logo, colours, font)
    "channels",
    "rest_framework",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    # Integrator API (issue 5): JWT with a refresh blacklist, OpenAPI, CORS, login lockout.
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "corsheaders",
    "axes",
    "accounts",
    "catalog",
    "orders",
    "analytics",
    "outbox",  # issue 21: every email (webhooks later) written with the change, delivered once
    "payments",  # issue 25: Stripe, or the embedded `test` provider
    "promotions",  # issue 26: tax rates, shipping zones, vouchers (priced by orders.pricing)
    "recommendations",  # issue 27: similar products, customers also bought
    "giftcards",  # issue 26: spent at checkout as part payment, through their ledger
    "webhooks",  # issue 28: signed, retried events to integrators' endpoints, written with the change
    "chat",  # issue 29: support chat over /ws/chat/ and /ws/staff/chat/
    "csp",
    "drf_spectacular_sidecar",
    # Production stack (issue 8): django-prometheus wraps requests (latency histograms) and the database
    # (query counters); shop.observability adds orders placed, Celery outcomes, open WebSockets.
    "django_prometheus",
    "django_structlog",
]

# The one middleware stack, outermost first.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "shop.observability.RequestIdMiddleware",  # X-Request-ID in, cleaned, echoed out
    "django_structlog.middlewares.RequestMiddleware",  # binds request_id to every log line
    "django.middleware.security.SecurityMiddleware",
    "shop.security.RequestSizeLimitMiddleware",  # 413 for a body over SHOP_MAX_REQUEST_BYTES
    # NUL bytes, oversized or broken forms: a clean 4xx before any view (shop.security, issue 21).
    "shop.security.HostileInputMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",  # issue 5: before CommonMiddleware, as its docs ask
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # issue 5: turns a lockout into a 429 page (keep it last of Django's)
    "analytics.middleware.EventMiddleware",  # issue 6: storefront events
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"
ASGI_APPLICATION = "shop.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.context_processors.shop",
                "orders.context_processors.cart",
                "accounts.context_processors.account",  # issue 7: verification reminder, wishlist
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == database.SQLITE:
    DATABASES["default"].update(database.sqlite_options(test_name=BASE_DIR / f"test-db-{os.getpid()}.sqlite3"))
if DATABASES["default"]["ENGINE"] == database.POSTGRESQL:  # prepared statements: see postgresql_options
    DATABASES["default"].setdefault("OPTIONS", {}).update(database.postgresql_options(
        server_side_binding=env.bool("DJANGO_DB_SERVER_SIDE_BINDING", default=True),
        prepare_threshold=database.prepare_threshold_from_env(env.str("DJANGO_DB_PREPARE_THRESHOLD", default="5")),
    ))
DATABASES["default"]["ENGINE"] = database.PROMETHEUS_ENGINES.get(DATABASES["default"]["ENGINE"],
                                                                 DATABASES["default"]["ENGINE"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery broker ----------------------------------------------
REDIS_URL = env("REDIS_URL", default="")

CACHES = caches.caches(REDIS_URL, socket_timeout=env.float("CACHE_REDIS_TIMEOUT", default=1.0),  # seconds
                       key_prefix=env("CACHE_KEY_PREFIX", default=""))
# "pubsub" (the default), "core", or a dotted class path; the prefix keeps shops on one Redis apart.
CHANNEL_LAYERS = caches.channel_layers(REDIS_URL, backend=env("CHANNEL_LAYER_BACKEND", default="pubsub"),
                                       prefix=env("CHANNEL_LAYER_PREFIX", default="asgi"))

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)  # seconds
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)  # seconds
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Jobs of killed workers go back to the queue (see shop.conf.tasks.broker_transport_options).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = tasks.broker_transport_options(
    visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),  # seconds
    unacked_restore_interval=env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),  # seconds
)
# Riding out a broker outage (issue 21; README "When things fail"): retry the broker for ever, let a
# running task finish (cancelling it sent emails twice, celery/celery#6654); supervisord restarts a
# worker that dies anyway, and the outbox relays what it left pending.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Sent by a worker when it starts, and by the first worker of a queue after a reconnection, so that
# pending work is picked up (shop.recovery; the list is shop.conf.tasks.WORKER_READY_TASKS).
CELERY_WORKER_READY_TASKS = tasks.worker_ready_tasks()

# --- Analytics (issue 6): the event buffer (analytics.middleware.EventMiddleware records events) ---
# Without Redis (no beat): buffered events are written at the end of a request at most this often.
ANALYTICS_FLUSH_SECONDS = env.float("ANALYTICS_FLUSH_SECONDS", default=5.0)  # seconds
# With Redis: each process sends its recorded events to the shared buffer in batches of this many,
# or this many seconds after the first (analytics.events.push_batch).
ANALYTICS_BATCH_SIZE = env.int("ANALYTICS_BATCH_SIZE", default=50)
ANALYTICS_BATCH_SECONDS = env.float("ANALYTICS_BATCH_SECONDS", default=1.0)  # seconds
# The anonymous visitor id cookie (a year); it never changes what a page shows, so cached pages
# (shop.pagecache) are still served to visitors who carry it.
ANALYTICS_VISITOR_COOKIE = "ishop_vid"

# --- Auth --------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = auth.PASSWORD_VALIDATORS
PASSWORD_HASHERS = env.list("DJANGO_PASSWORD_HASHERS", default=auth.DEFAULT_PASSWORD_HASHERS)  # Argon2id first

# --- Email -------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="iShop <shop@localhost>")
# --- Accounts and shop emails (issue 7) ---
# Links in emails are built on this URL (never on the request's Host header).
SHOP_BASE_URL = env("SHOP_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
SHOP_EMAIL_VERIFICATION_MAX_AGE = env.int("SHOP_EMAIL_VERIFICATION_MAX_AGE", default=3 * 24 * 3600)  # seconds
SHOP_GUEST_ORDER_LINK_MAX_AGE = env.int("SHOP_GUEST_ORDER_LINK_MAX_AGE", default=180 * 24 * 3600)  # seconds

# --- Outbox (issue 21): every email (webhooks later) written with the change, delivered once ----
# Retries back off from OUTBOX_RETRY_BACKOFF seconds to OUTBOX_RETRY_BACKOFF_MAX; beat relays what is
# pending every OUTBOX_RELAY_INTERVAL seconds (outbox.services describes the rules).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=7)
OUTBOX_RETRY_BACKOFF = env.float("OUTBOX_RETRY_BACKOFF", default=30.0)  # seconds
OUTBOX_RETRY_BACKOFF_MAX = env.float("OUTBOX_RETRY_BACKOFF_MAX", default=600.0)  # seconds
OUTBOX_RELAY_INTERVAL = env.float("OUTBOX_RELAY_INTERVAL", default=10.0)  # seconds
OUTBOX_RELAY_STALE_SECONDS = env.float("OUTBOX_RELAY_STALE_SECONDS", default=300.0)  # seconds
OUTBOX_KEEP_SENT_DAYS = env.int("OUTBOX_KEEP_SENT_DAYS", default=30)  # sent messages are then deleted
PASSWORD_RESET_TIMEOUT = env.int("DJANGO_PASSWORD_RESET_TIMEOUT", default=24 * 3600)  # seconds

# --- Outgoing webhooks (issue 28): WEBHOOK_* and SHOP_OWNER_EMAILS, listed in shop.conf.webhooks ---
WEBHOOK_SETTINGS = webhooks.from_env(env)
vars().update(WEBHOOK_SETTINGS)
# Deliveries have a queue of their own, which the worker consumes too (Procfile: --queues).
CELERY_TASK_ROUTES = tasks.task_routes(webhook_queue=WEBHOOK_SETTINGS["WEBHOOK_QUEUE"])

# --- Recommendations (issue 27) ------------------------------------------------------------
# Top-level categories that group products across departments (Luma's "collections" and
# "promotions"): similar products are sought within a product's other top-level categories.
RECOMMENDATIONS_NOT_DEPARTMENTS = env.list("RECOMMENDATIONS_NOT_DEPARTMENTS", default=["collections", "promotions"])
# The API's answers stay cached at most this long (seconds; versions make them stale sooner; 0: off).
RECOMMENDATIONS_ANSWER_CACHE_SECONDS = env.int("RECOMMENDATIONS_ANSWER_CACHE_SECONDS", default=600)
# A customer's answers are also seeded by what they viewed, which no version reports (seconds).
RECOMMENDATIONS_PERSONAL_CACHE_SECONDS = env.int("RECOMMENDATIONS_PERSONAL_CACHE_SECONDS", default=60)

# --- Periodic tasks (celery beat): shop.conf.tasks.beat_schedule lists them -------------------
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = tasks.beat_schedule(
    outbox_relay_interval=OUTBOX_RELAY_INTERVAL,
    webhook_relay_interval=WEBHOOK_SETTINGS["WEBHOOK_RELAY_INTERVAL"],
    promotions_refresh=env.float("PROMOTIONS_REFRESH_SECONDS", default=60.0),  # seconds
    recommendations_update=env.float("RECOMMENDATIONS_UPDATE_SECONDS", default=300.0))  # seconds

# --- I18N --------------------------------------------------------------------------------
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")  # LANGUAGE_CODE "en-us", USE_I18N and USE_TZ: Django's defaults

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env("DJANGO_MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
# Django serves MEDIA_ROOT itself only where no web server (nginx) is in front.
SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=DEBUG)
# S3 (or any S3-compatible store) for media when a bucket is named; the filesystem otherwise.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
AWS_S3_CUSTOM_DOMAIN = env("AWS_S3_CUSTOM_DOMAIN", default=None)
AWS_QUERYSTRING_AUTH = env.bool("AWS_QUERYSTRING_AUTH", default=False)
# Never overwrite: stored files are served with an immutable cache header.
AWS_S3_FILE_OVERWRITE = env.bool("AWS_S3_FILE_OVERWRITE", default=False)
AWS_S3_OBJECT_PARAMETERS = storage.S3_OBJECT_PARAMETERS
STORAGES = storage.storages(s3_bucket=AWS_STORAGE_BUCKET_NAME, debug=DEBUG)
WHITENOISE_USE_FINDERS = DEBUG

# --- Security ----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Security baseline (issue 8): `check --deploy` passes on these defaults (TLS ends at the proxy);
# the local plain-HTTP prod stack turns them off through the environment (README's env var table).
# Trust X-Forwarded-Proto only where a proxy that overwrites it is the sole way in.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=not DEBUG) else None
)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)  # seconds
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_COOKIE_HTTPONLY = True  # no script reads the token from the cookie; forms carry it
# Request size limits (bytes): form fields held in memory, and an uploaded file kept in memory
# before it spills to a temporary file. shop.security.RequestSizeLimitMiddleware answers 413 to any
# body declared larger than SHOP_MAX_REQUEST_BYTES (default: the image limit plus 1 MB of form).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DJANGO_DATA_UPLOAD_MAX_NUMBER_FIELDS", default=1000)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
SHOP_JSON_MAX_DEPTH = env.int("SHOP_JSON_MAX_DEPTH", default=32)  # levels of JSON a client may nest
# Longest URL (path and query string, bytes) answered; longer is 414, as gunicorn's 4094-byte request line.
SHOP_MAX_URI_BYTES = env.int("SHOP_MAX_URI_BYTES", default=4094)
# Content-Security-Policy (shop.conf.security). Extra image hosts (an S3 or CDN media domain) come
# from CSP_IMG_SRC; extra WebSocket origins from CSP_CONNECT_SRC.
CONTENT_SECURITY_POLICY = security.content_security_policy(
    img_src=env.list("CSP_IMG_SRC", default=[]), connect_src=env.list("CSP_CONNECT_SRC", default=[]),
    bucket=AWS_STORAGE_BUCKET_NAME, s3_custom_domain=AWS_S3_CUSTOM_DOMAIN, s3_endpoint_url=AWS_S3_ENDPOINT_URL,
    form_action=[env("STRIPE_CHECKOUT_ORIGIN", default="https://checkout.stripe.com")],
)

# --- Integrator API (issue 5): DRF, JWT, OpenAPI, throttling, CORS, login lockout -------------
REST_FRAMEWORK = api.rest_framework(throttle_rates={
    "anon": env("API_THROTTLE_ANON", default="120/minute"),
    "user": env("API_THROTTLE_USER", default="600/minute"),
    "auth": env("API_THROTTLE_AUTH", default="10/minute"),
})
SIMPLE_JWT = api.simple_jwt(access_seconds=env.int("JWT_ACCESS_LIFETIME", default=15 * 60),
                            refresh_seconds=env.int("JWT_REFRESH_LIFETIME", default=14 * 24 * 3600))
SPECTACULAR_SETTINGS = api.spectacular()
# No cross-origin browser access unless named: DJANGO_CORS_ALLOWED_ORIGINS=https://app.example,...
CORS_ALLOWED_ORIGINS = env.list("DJANGO_CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (*default_headers, "idempotency-key")

# Who the client is (issue 21): shop.observability.client_address, for the throttles, axes, the logs
# and analytics. The number of proxies in front that append the address they saw to
# X-Forwarded-For; 0 believes REMOTE_ADDR (daphne or runserver facing the client). Production
# defaults to 1 (nginx, which gunicorn sees through a Unix socket with an empty REMOTE_ADDR).
SHOP_TRUSTED_PROXY_COUNT = env.int("SHOP_TRUSTED_PROXY_COUNT", default=0 if DEBUG else 1)
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # shop.observability binds `ip` itself

# django-axes locks an (account, client address) pair; many failures on one account from anywhere
# ask for the password plus an emailed one-time link (accounts.login_guard).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_CLIENT_IP_CALLABLE = "shop.observability.client_address"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
SHOP_LOGIN_ACCOUNT_FAILURE_LIMIT = env.int("SHOP_LOGIN_ACCOUNT_FAILURE_LIMIT", default=50)
SHOP_LOGIN_ACCOUNT_FAILURE_WINDOW = env.int("SHOP_LOGIN_ACCOUNT_FAILURE_WINDOW", default=3600)  # seconds
SHOP_LOGIN_LINK_MAX_AGE = env.int("SHOP_LOGIN_LINK_MAX_AGE", default=15 * 60)  # seconds a login link works
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.backends.login_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.backends.lockout_response"
AXES_VERBOSE = False

# --- The shop ----------------------------------------------------------------------------
SHOP_NAME = env("SHOP_NAME", default="iShop")
SHOP_CURRENCY = env("SHOP_CURRENCY", default="USD")  # ISO 4217; every price is in this currency
SHOP_DEFAULT_COUNTRY = env("SHOP_DEFAULT_COUNTRY", default="US")  # ISO 3166-1 alpha-2: checkout's preselected country
# Branding (issue 23): the logo's URL (empty: the name as a wordmark) and the theme's two colours
# (CSS colours; keep each at >= 4.5:1 against white, they carry white text).
SHOP_LOGO_URL = env("SHOP_LOGO_URL", default="")
SHOP_BRAND_COLOUR = env("SHOP_BRAND_COLOUR", default="#1f4e79")
SHOP_ACCENT_COLOUR = env("SHOP_ACCENT_COLOUR", default="#b3261e")
# The home page's rails (catalog/rails.py): the category paths of the merchandisers' sale and new collections.
SHOP_SALE_CATEGORY = env("SHOP_SALE_CATEGORY", default="promotions")
SHOP_NEW_CATEGORY = env("SHOP_NEW_CATEGORY", default="collections/new-luma-yoga-collection")
SHOP_PRODUCTS_PER_PAGE = env.int("SHOP_PRODUCTS_PER_PAGE", default=24)
# Issue 5: seconds an API product-list page stays cached (catalog/listing_cache.py); 0 switches it off.
SHOP_API_LIST_CACHE_SECONDS = env.int("SHOP_API_LIST_CACHE_SECONDS", default=30)
SHOP_CART_MAX_QUANTITY = env.int("SHOP_CART_MAX_QUANTITY", default=99)  # per line
# Images: uploads larger than this are refused (bytes); the proxy fetches only from these hosts.
SHOP_IMAGE_MAX_BYTES = env.int("SHOP_IMAGE_MAX_BYTES", default=15 * 1024 * 1024)
# Page cache for category and product pages (shop.pagecache), invalidated by stock and price
# changes. Seconds; 0 turns it off. Off by default without Redis: a process-local cache would not
# see another process's invalidation. Change the namespace to drop every cached page (a release).
SHOP_PAGE_CACHE_SECONDS = env.int("SHOP_PAGE_CACHE_SECONDS", default=300 if REDIS_URL else 0)
SHOP_PAGE_CACHE_NAMESPACE = env("SHOP_PAGE_CACHE_NAMESPACE", default="1")
# Listing filter choices (seconds); a category count is kept as long, while its page versions stand.
SHOP_FACETS_CACHE_SECONDS = env.int("SHOP_FACETS_CACHE_SECONDS", default=600)
# Whole request bodies above this are refused with 413 (shop.security.RequestSizeLimitMiddleware).
SHOP_MAX_REQUEST_BYTES = env.int("SHOP_MAX_REQUEST_BYTES", default=SHOP_IMAGE_MAX_BYTES + 1024 * 1024)
SHOP_IMAGE_PROXY_ALLOWED_HOSTS = env.list("SHOP_IMAGE_PROXY_ALLOWED_HOSTS", default=[])
SHOP_IMAGE_FETCH_TIMEOUT = env.float("SHOP_IMAGE_FETCH_TIMEOUT", default=10.0)  # seconds, whole fetch
# Pricing (issue 26, orders.pricing): tax in prices or not, gross or net display, rounding, origin, shipping rates.
(SHOP_PRICES_INCLUDE_TAX, SHOP_DISPLAY_GROSS_PRICES, SHOP_TAX_ROUNDING, SHOP_TAX_ORIGIN_COUNTRY, SHOP_TAX_LABEL,
 SHOP_SHIPPING_RATES) = pricing.from_env(env, default_country=SHOP_DEFAULT_COUNTRY)

# --- Production stack (issue 8): probes, metrics, JSON logs -----------------------------------
# /metrics: from these addresses (or networks), or with "Authorization: Bearer <token>".
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_BEARER_TOKEN = env("METRICS_BEARER_TOKEN", default="")
# Structured logs (shop.conf.logs): one JSON object per line (DJANGO_LOG_FORMAT=json, the default
# with DJANGO_DEBUG=false) or readable lines (console, the default in development).
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
DJANGO_STRUCTLOG_CELERY_ENABLED = True
LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="console" if DEBUG else "json")
LOGGING = logs.logging_config(log_format=LOG_FORMAT, level=env("DJANGO_LOG_LEVEL", default="INFO"))
logs.configure_structlog()
# `manage.py backup` writes here unless given --dir/--output (issue 8).
BACKUP_DIR = env.path("ISHOP_BACKUP_DIR", default=BASE_DIR / "backups")

# --- Payments (issue 25): Stripe when STRIPE_SECRET_KEY is set, else the embedded `test` provider ---
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")  # whsec_...; the test provider derives one
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")  # the test suite's fake Stripe
STRIPE_TIMEOUT = env.int("STRIPE_TIMEOUT", default=20)  # seconds per Stripe API request
# The `test` provider (an Approve button, no money) serves only where asked for: by default with
# DJANGO_DEBUG (make run); a production shop without STRIPE_SECRET_KEY takes no orders' payments.
SHOP_TEST_PAYMENTS = env.bool("SHOP_TEST_PAYMENTS", default=DEBUG)
SHOP_PAYMENT_TIMEOUT = env.int("SHOP_PAYMENT_TIMEOUT", default=1800)  # seconds an unpaid order holds its stock
CHAT_MAX_MESSAGE_LENGTH, CHAT_RATE_LIMIT, CHAT_GUEST_RATE_LIMIT, CHAT_PRESENCE_SECONDS = chat.from_env(env)  # issue 29
