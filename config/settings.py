"""Appkeeper settings: one module, every value from the environment.

``APPKEEPER_ENV=development`` (the default) gives safe local defaults: SQLite under
``var/``, a broker-less Celery transport on the file system, console email. With
``APPKEEPER_ENV=production`` nothing is guessed: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL
and CELERY_BROKER_URL must be set, and a missing one stops the process at start.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    database_from_url,
    env_bool,
    env_decimal,
    env_int,
    env_list,
    env_str,
    parse_group_map,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("APPKEEPER_VAR_DIR", str(BASE_DIR / "var")))

APPKEEPER_ENV = env_str("APPKEEPER_ENV", "development")
if APPKEEPER_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"Environment variable APPKEEPER_ENV={APPKEEPER_ENV!r} must be development or production."
    )
PRODUCTION = APPKEEPER_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("Environment variable DEBUG must not be true in production.")

SECRET_KEY = env_str(
    "SECRET_KEY",
    "dev-insecure-appkeeper-key-do-not-use-in-production-0123456789",
    required=PRODUCTION,
)
if PRODUCTION and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "Environment variable SECRET_KEY must be at least 50 characters with 5 distinct ones."
    )
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"], required=PRODUCTION
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # the built-in widget templates, for FORM_RENDERER below
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "core",
    "catalog",
    "lifecycle",
    "scorecards",
    "ops",
    "identity",
    "messaging",
]

MIDDLEWARE = [
    "core.metrics.RequestMetricsMiddleware",
    "core.middleware.RequestIdMiddleware",
    # Outside everything that may answer early (JSON errors, 413s, whitenoise's static
    # files), so every response carries the policies.
    "core.headers.SecurityHeadersMiddleware",
    "core.middleware.ApiJsonErrorsMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.security.LoginRateLimitMiddleware",
    "core.middleware.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if PRODUCTION:
    # Behind gunicorn there is no runserver to serve static files; whitenoise does.
    _security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")
    MIDDLEWARE.insert(_security + 1, "whitenoise.middleware.WhiteNoiseMiddleware")

# Widgets render from the project's templates too (the "depends on" app picker).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "catalog.context_processors.appkeeper",
            ],
        },
    }
]

_database_url = env_str("DATABASE_URL", required=PRODUCTION)
if _database_url:
    DATABASES = {"default": database_from_url("DATABASE_URL", _database_url)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "appkeeper.sqlite3",
            # Closing the last connection to a WAL database forces a checkpoint: keeping
            # connections makes each telemetry call ~5x cheaper in development.
            "CONN_MAX_AGE": 60,
            # WAL lets the web app read while the worker writes; IMMEDIATE avoids
            # "database is locked" upgrades in short write transactions.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
# Redis (cache and broker) is waited for by requests: an unreachable one must be noticed
# within this long, not after the OS's connect timeout, and then requests go on without it
# (core/resilience.py).
APPKEEPER_REDIS_TIMEOUT_SECONDS = float(env_decimal("APPKEEPER_REDIS_TIMEOUT_SECONDS", "0.5"))
if not 0 < APPKEEPER_REDIS_TIMEOUT_SECONDS <= 30:
    raise ImproperlyConfigured(
        "Environment variable APPKEEPER_REDIS_TIMEOUT_SECONDS must be above 0 and at most 30."
    )
_cache_url = env_str("CACHE_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "OPTIONS": {
                "socket_connect_timeout": APPKEEPER_REDIS_TIMEOUT_SECONDS,
                "socket_timeout": APPKEEPER_REDIS_TIMEOUT_SECONDS,
            },
        }
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Request bodies: contracts may be 10 MB, so the transport limit sits a little above that;
# endpoints with smaller budgets (telemetry: 1 MB) enforce their own.
APPKEEPER_MAX_REQUEST_BYTES = env_int("APPKEEPER_MAX_REQUEST_BYTES", 11 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = APPKEEPER_MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = APPKEEPER_MAX_REQUEST_BYTES
APPKEEPER_MAX_JSON_DEPTH = env_int("APPKEEPER_MAX_JSON_DEPTH", 64, minimum=2)

# Product rules.
APPKEEPER_EXPIRY_DAYS = env_int("APPKEEPER_EXPIRY_DAYS", 90, minimum=1)
APPKEEPER_GRACE_DAYS = env_int("APPKEEPER_GRACE_DAYS", 30, minimum=0)
APPKEEPER_RECERTIFY_DAYS = env_int("APPKEEPER_RECERTIFY_DAYS", 365, minimum=1)
APPKEEPER_REMINDER_DAYS = [
    int(d) for d in env_list("APPKEEPER_REMINDER_DAYS", ["30", "14", "7", "1"])
]
APPKEEPER_REVIEW_HOURS = env_int("APPKEEPER_REVIEW_HOURS", 48, minimum=1)
APPKEEPER_HEARTBEAT_HOURS = env_int("APPKEEPER_HEARTBEAT_HOURS", 24, minimum=1)
APPKEEPER_SUNSET_MIN_REQUESTS = env_int("APPKEEPER_SUNSET_MIN_REQUESTS", 100, minimum=0)
APPKEEPER_SUNSET_RESPONSE_DAYS = env_int("APPKEEPER_SUNSET_RESPONSE_DAYS", 14, minimum=1)
APPKEEPER_CURRENCY = env_str("APPKEEPER_CURRENCY", "EUR")
APPKEEPER_TELEMETRY_TOLERANCE_SECONDS = env_int("APPKEEPER_TELEMETRY_TOLERANCE_SECONDS", 300)
APPKEEPER_TELEMETRY_MAX_BYTES = env_int("APPKEEPER_TELEMETRY_MAX_BYTES", 1024 * 1024)
# Observed calls are compared with declared dependencies over this many days.
APPKEEPER_OBSERVED_CALLS_DAYS = env_int("APPKEEPER_OBSERVED_CALLS_DAYS", 90, minimum=7)
APPKEEPER_CONTRACT_MAX_BYTES = env_int("APPKEEPER_CONTRACT_MAX_BYTES", 10 * 1024 * 1024)
# Backstage imports: a synchronous import answers within the request, so it is capped well
# below what a worker timeout allows; larger catalogs go to a background job.
APPKEEPER_BACKSTAGE_MAX_ENTITIES = env_int("APPKEEPER_BACKSTAGE_MAX_ENTITIES", 500, minimum=1)
APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND = env_int(
    "APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND", 20000, minimum=1
)
APPKEEPER_BACKSTAGE_MAX_BYTES = env_int(
    "APPKEEPER_BACKSTAGE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024
)
# A job's report lists each entity with its outcome up to this many (then counts only).
APPKEEPER_BACKSTAGE_REPORT_ENTITIES = env_int(
    "APPKEEPER_BACKSTAGE_REPORT_ENTITIES", 5000, minimum=0
)
# Backstage sync sources: hosts Appkeeper may fetch catalog files and $text/$json/$yaml
# placeholders from (exact names, or ".example.com" for its subdomains); private and
# loopback addresses are refused unless APPKEEPER_BACKSTAGE_ALLOW_PRIVATE is on.
APPKEEPER_BACKSTAGE_ALLOWED_HOSTS = env_list("APPKEEPER_BACKSTAGE_ALLOWED_HOSTS", [])
APPKEEPER_BACKSTAGE_ALLOW_PRIVATE = env_bool("APPKEEPER_BACKSTAGE_ALLOW_PRIVATE", False)
# One fetched file (catalog or placeholder) at most, and the files one sync may read.
APPKEEPER_BACKSTAGE_FETCH_MAX_BYTES = env_int(
    "APPKEEPER_BACKSTAGE_FETCH_MAX_BYTES", 5 * 1024 * 1024, minimum=1024
)
APPKEEPER_BACKSTAGE_FETCH_MAX_FILES = env_int("APPKEEPER_BACKSTAGE_FETCH_MAX_FILES", 500, minimum=1)
# An entity its source stopped listing is flagged at once, and after this many days a
# sunset case proposes retiring its app.
APPKEEPER_BACKSTAGE_MISSING_GRACE_DAYS = env_int(
    "APPKEEPER_BACKSTAGE_MISSING_GRACE_DAYS", 14, minimum=0
)
# Slack (messaging/): a bot token and signing secret of the installation's Slack app
# (docs/slack-app-manifest.yaml); empty means Slack is off. The API base is configurable so
# tests (and air-gapped proxies) stand in for slack.com.
SLACK_BOT_TOKEN = env_str("SLACK_BOT_TOKEN", "")
SLACK_SIGNING_SECRET = env_str("SLACK_SIGNING_SECRET", "")
SLACK_API_BASE_URL = env_str("SLACK_API_BASE_URL", "https://slack.com/api/")
# Hosts a team's Teams webhook may point at (a suffix match): Workflows and the old
# connectors. Plain http is allowed only for a host listed here exactly (a local receiver).
APPKEEPER_TEAMS_WEBHOOK_HOSTS = env_list(
    "APPKEEPER_TEAMS_WEBHOOK_HOSTS",
    [".logic.azure.com", ".powerplatform.com", ".webhook.office.com", ".powerautomate.com"],
)
# Digests go out at this hour in each person's time zone (weekly ones on Mondays).
APPKEEPER_DIGEST_HOUR = env_int("APPKEEPER_DIGEST_HOUR", 8, minimum=0)
# Reminders this close to expiry always go out at once, whatever the person chose.
APPKEEPER_DIGEST_URGENT_DAYS = env_int("APPKEEPER_DIGEST_URGENT_DAYS", 7, minimum=0)
# How far impact analysis follows dependents of dependents (a cycle stops here too).
APPKEEPER_IMPACT_MAX_DEPTH = env_int("APPKEEPER_IMPACT_MAX_DEPTH", 10, minimum=1)
# A contract version that breaks what live dependents call takes effect at least this many
# days after its upload, unless the platform team overrides the window.
APPKEEPER_BREAKING_NOTICE_DAYS = env_int("APPKEEPER_BREAKING_NOTICE_DAYS", 30, minimum=0)
APPKEEPER_BASE_URL = env_str("APPKEEPER_BASE_URL", "http://127.0.0.1:8000")
APPKEEPER_METRICS_TOKEN = env_str("APPKEEPER_METRICS_TOKEN", "")
APPKEEPER_COST_WARN = env_decimal("APPKEEPER_COST_WARN", "1000")
# API tokens: the lifetime a new token gets unless its owner picks another, up to the most.
APPKEEPER_API_TOKEN_MAX_DAYS = env_int("APPKEEPER_API_TOKEN_MAX_DAYS", 365, minimum=1)
APPKEEPER_API_TOKEN_DAYS = env_int("APPKEEPER_API_TOKEN_DAYS", 90, minimum=1)
if APPKEEPER_API_TOKEN_DAYS > APPKEEPER_API_TOKEN_MAX_DAYS:
    raise ImproperlyConfigured(
        "Environment variable APPKEEPER_API_TOKEN_DAYS must not exceed "
        "APPKEEPER_API_TOKEN_MAX_DAYS."
    )

# Single sign-on through OpenID Connect (identity/oidc.py): on only when an issuer (or a
# discovery URL) and a client id are set. The provider's endpoints and keys come from its
# discovery document, fetched at the first sign-in and cached, so an admin sets only these.
# An empty value means the default (docker-compose.yml passes every one through).
OIDC_ISSUER = env_str("OIDC_ISSUER", "")
OIDC_DISCOVERY_URL = env_str("OIDC_DISCOVERY_URL", "")
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "")
OIDC_ENABLED = bool((OIDC_ISSUER or OIDC_DISCOVERY_URL) and OIDC_RP_CLIENT_ID)
for _name, _url in (("OIDC_ISSUER", OIDC_ISSUER), ("OIDC_DISCOVERY_URL", OIDC_DISCOVERY_URL)):
    # Keys and tokens fetched over plain HTTP could be swapped on the way.
    if PRODUCTION and _url and urlparse(_url).scheme != "https":
        raise ImproperlyConfigured(f"Environment variable {_name} must be an https:// URL.")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "") or "openid email profile"
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "") or "groups"
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "") or "your company account"
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10, minimum=1)
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # the provider's end-session endpoint wants it back as a hint
OIDC_AUTHENTICATE_CLASS = "identity.oidc_views.SignInWithProviderView"
OIDC_CALLBACK_CLASS = "identity.oidc_views.ProviderCallbackView"
# Without a verified address from the provider (Entra ID sends no email_verified), an
# existing account is adopted by e-mail only when the operator vouches for the provider.
APPKEEPER_OIDC_TRUST_EMAIL = env_bool("APPKEEPER_OIDC_TRUST_EMAIL", False)
APPKEEPER_OIDC_GROUP_MAP = parse_group_map(
    "APPKEEPER_OIDC_GROUP_MAP", env_str("APPKEEPER_OIDC_GROUP_MAP", "")
)
APPKEEPER_OIDC_ACCESS_GROUPS = env_list("APPKEEPER_OIDC_ACCESS_GROUPS", [])
APPKEEPER_PASSWORD_LOGIN = env_bool("APPKEEPER_PASSWORD_LOGIN", True)
if not APPKEEPER_PASSWORD_LOGIN and not OIDC_ENABLED:
    raise ImproperlyConfigured(
        "Environment variable APPKEEPER_PASSWORD_LOGIN=false needs single sign-on: set "
        "OIDC_ISSUER and OIDC_CLIENT_ID, or nobody could sign in."
    )
# The provider's backend stays listed without single sign-on (it then signs nobody in), so
# sessions it started survive a restart that changed the configuration.
AUTHENTICATION_BACKENDS = [
    *(["django.contrib.auth.backends.ModelBackend"] if APPKEEPER_PASSWORD_LOGIN else []),
    "identity.oidc.ProviderBackend",
]

# Operations: sign-in limiting, benchmark-only endpoints, Celery logging.
# /metrics: APPKEEPER_METRICS_TOKEN (above) set -> bearer token required; empty -> only
# direct loopback clients are answered (see docs/operations.md).
# Reverse proxies in front of the site that append to X-Forwarded-For (0: none, the header
# is ignored). One number for the sign-in limit (core.security.client_ip), DRF's throttles
# (NUM_PROXIES below) and whether X-Forwarded-Proto is believed (production, below).
APPKEEPER_TRUSTED_PROXIES = env_int("APPKEEPER_TRUSTED_PROXIES", 0, minimum=0)
APPKEEPER_LOGIN_MAX_ATTEMPTS = env_int("APPKEEPER_LOGIN_MAX_ATTEMPTS", 5, minimum=1)
APPKEEPER_LOGIN_WINDOW_SECONDS = env_int("APPKEEPER_LOGIN_WINDOW_SECONDS", 900, minimum=1)
APPKEEPER_LOGIN_MAX_ATTEMPTS_PER_IP = env_int("APPKEEPER_LOGIN_MAX_ATTEMPTS_PER_IP", 50, minimum=1)
APPKEEPER_BENCH_ENDPOINTS = env_bool("APPKEEPER_BENCH_ENDPOINTS", False)
if PRODUCTION and APPKEEPER_BENCH_ENDPOINTS:
    raise ImproperlyConfigured("APPKEEPER_BENCH_ENDPOINTS is for benchmark runs, not production.")
# Keep Django's LOGGING (JSON in production) in the worker instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so a bad token is answered 401 with a WWW-Authenticate header.
        "core.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["catalog.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "catalog.api.schema.StrictFilterBackend",
        "catalog.filters.NullsLastOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "catalog.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "catalog.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "telemetry": env_str("APPKEEPER_THROTTLE_TELEMETRY", "6000/min"),
        "sensitive": env_str("APPKEEPER_THROTTLE_SENSITIVE", "60/min"),
        # Issuing API tokens, per user: enough for a person, not for a runaway script.
        "api_tokens": env_str("APPKEEPER_THROTTLE_TOKENS", "30/hour"),
    },
    # DRF's default (None) keys throttles on the whole X-Forwarded-For header, which the
    # client writes when no proxy rewrites it: a fresh header per call escaped the limit.
    "NUM_PROXIES": APPKEEPER_TRUSTED_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Appkeeper API",
    "DESCRIPTION": "Registry and autopilot for a fleet of micro-apps.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Region.jurisdiction and MicroApp.data_residency share one enum.
    "ENUM_NAME_OVERRIDES": {
        "JurisdictionEnum": "catalog.choices.Jurisdiction",
        "AppKindEnum": "catalog.choices.AppKind",
        "ContractKindEnum": "catalog.choices.ContractKind",
        "ReviewDecisionEnum": "catalog.choices.ReviewDecision",
        "SunsetDecisionEnum": "lifecycle.choices.SunsetDecision",
        "ImportJobStateEnum": "catalog.models.ImportJobState",
        "ApiTokenStateEnum": "core.models.ApiToken.State",
        "ContractStatusEnum": "catalog.choices.ContractStatus",
        # The app state keeps its name beside the import job and API token states, so
        # clients generated from the schema keep it.
        "StateEnum": "catalog.choices.AppState",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "catalog.api.schema.add_error_responses",
    ],
    # Deep links put a link inside each operation's expand button, which screen readers
    # cannot reach (axe: nested-interactive); static/js/contract-docs.js does the same.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
}

# Browser policies on every response (core.headers). No inline script, no inline <style>
# and no style attributes in our own pages; htmx is told not to inject its indicator
# <style> (base.html), so that holds with htmx too; the Swagger UI at /api/docs/ runs
# under it unchanged (split view, config/urls.py). One documented relaxation by path
# prefix: DRF's browsable API (HTML under /api/v1/) sets style attributes.
APPKEEPER_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "style-src-elem": ["'self'"],
    "style-src-attr": ["'none'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
if OIDC_ENABLED:
    # Signing out ends the provider's session too: the sign-out form's answer redirects
    # there, and form-action governs where a form's redirects may go.
    _issuer = urlparse(OIDC_ISSUER or OIDC_DISCOVERY_URL)
    APPKEEPER_CSP["form-action"].append(f"{_issuer.scheme}://{_issuer.netloc}")
APPKEEPER_CSP_PATH_OVERRIDES: dict[str, dict[str, list[str]]] = {
    "/api/v1/": {"style-src-attr": ["'unsafe-inline'"]},
}
# Powerful browser features no page here uses, denied to the page and anything it embeds.
APPKEEPER_PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Celery: in development a broker-less file-system transport under var/, so `make run`
# needs no server; in production CELERY_BROKER_URL must name Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://", required=PRODUCTION)
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "socket_connect_timeout": APPKEEPER_REDIS_TIMEOUT_SECONDS,
        # Above the 1 s a worker's BRPOP waits on an idle queue, so idle workers are not
        # mistaken for a dead broker; a publish to a half-open connection still gives up.
        "socket_timeout": max(APPKEEPER_REDIS_TIMEOUT_SECONDS, 5.0),
        # Before publishing, kombu reconnects with retries until broker_connection_timeout
        # (sleeping 2 s between tries): fail at once instead, the publish retry policy
        # below covers a dropped connection and beat re-sends what could not be published.
        "max_retries": 0,
    }
    CELERY_BROKER_CONNECTION_TIMEOUT = APPKEEPER_REDIS_TIMEOUT_SECONDS
    CELERY_TASK_PUBLISH_RETRY_POLICY = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
    }
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        # The exchange table; kombu defaults to ./control, which would litter the checkout.
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "appkeeper@localhost")
# An SMTP server that accepts the connection and then stalls must not hold an outbox batch
# past its lease (catalog.notifications): Django's default is to wait forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)

# HTTPS is the proxy's job (it terminates TLS and redirects plain HTTP itself, as the
# nginx of docker-compose.yml does): Django then need not redirect, and says so to the
# deploy check instead of warning that it does not. Needs a trusted proxy, whose
# X-Forwarded-Proto tells Django which requests came over HTTPS.
APPKEEPER_HTTPS_AT_PROXY = env_bool("APPKEEPER_HTTPS_AT_PROXY", False)
if APPKEEPER_HTTPS_AT_PROXY and APPKEEPER_TRUSTED_PROXIES == 0:
    raise ImproperlyConfigured(
        "Environment variable APPKEEPER_HTTPS_AT_PROXY=true needs APPKEEPER_TRUSTED_PROXIES "
        "of at least 1 (the proxy that terminates TLS)."
    )

if PRODUCTION:
    if APPKEEPER_TRUSTED_PROXIES > 0:
        # Without a proxy that sets it, X-Forwarded-Proto comes from the client, who could
        # make a plain-HTTP request pass as secure.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not APPKEEPER_HTTPS_AT_PROXY)
    if APPKEEPER_HTTPS_AT_PROXY and not SECURE_SSL_REDIRECT:
        # security.W008 ("SECURE_SSL_REDIRECT is not True") asks for exactly this: "or
        # configure a load balancer or reverse-proxy server to redirect all connections".
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REFERRER_POLICY = "same-origin"
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "readable": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if PRODUCTION else "readable",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
