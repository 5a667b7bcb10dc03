"""Settings for opsconsole, read from the environment only.

With ``DJANGO_DEBUG`` unset the settings are production-safe: a secret key is required and
cookies, HSTS and redirects assume HTTPS. ``make run`` sets ``DJANGO_DEBUG=1``.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
import structlog
from celery.schedules import crontab
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from opsconsole.settings.env import cache_from_env, env_bool, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (production mode)."
        )
    SECRET_KEY = "insecure-development-key-only-for-DJANGO_DEBUG"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    "opsconsole.apps.OpsConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Staff sign-in: a second factor (TOTP, recovery codes, passkeys) and lockout.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "django_structlog",
    "csp",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI and Redoc served from our static files: the API docs work offline, no CDN.
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    # Database triggers declared on models (gates: a signed decision is immutable).
    "pgtrigger",
    # The project's apps in layer order, bottom up: each imports only from those above it in
    # this list, and seed_demo runs their demo seeders in this order.
    "opsconsole.apps.OpsConsoleConfig",
    "accounts",
    "routing",
    "reports",
    "gates",
]
# The benchmarks' app (manage.py generate_data) only when benchmarks run: `make bench` and
# `manage.py generate_data` set this; production never installs it.
BENCHMARKS = env_bool("OPSCONSOLE_BENCHMARKS", default=False)
if BENCHMARKS:
    INSTALLED_APPS.append("bench")

MIDDLEWARE = [
    # First: every response, even a refused one, carries the request's X-Request-ID.
    "opsconsole.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "opsconsole.security_headers.PermissionsPolicyMiddleware",
    # Before the session: the browser's parallel /favicon.ico must not save a stale session.
    "opsconsole.middleware.FaviconMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # One structured line per request (request_finished, or request_failed with the traceback):
    # request id, method, path, status, user and duration (opsconsole/request_log.py).
    "opsconsole.request_log.RequestLogMiddleware",
    # request.user.is_verified(): whether this session passed a second factor.
    "django_otp.middleware.OTPMiddleware",
    "opsconsole.middleware.AdminSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a refused (locked-out) login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsconsole.urls"
WSGI_APPLICATION = "opsconsole.wsgi.application"

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
                "opsconsole.staffauth.context.staff_auth",
            ],
        },
    },
]

# An unset DATABASE_URL means the embedded SQLite database that `make run` uses.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'opsconsole.sqlite3'}"),
        conn_max_age=60,
    )
}
# Reports read from a replica when one is configured; everything else uses the primary.
if env_str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = dj_database_url.parse(env_str("DATABASE_REPLICA_URL"), conn_max_age=60)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["opsconsole.db_router.ReportsReplicaRouter"]
# PostgreSQL's JIT compiles any query whose estimated cost is high, and a report over 1M rows
# is: compiling took seconds where running took 100 ms (bench.reports). Off for the console.
for _database in DATABASES.values():
    if _database["ENGINE"].endswith("postgresql"):
        _database.setdefault("OPTIONS", {})["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; the API fails closed anyway.

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# --- Security. Production-safe unless DJANGO_DEBUG is set. ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Content-Security-Policy (django-csp): scripts, styles, images and fonts from the console's own
# origin only; no inline script or style anywhere (templates keep CSS/JS in static files), no
# frames, no plugins. The offline API docs (drf-spectacular-sidecar) are served from static too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}

# Console sessions end after 30 minutes idle (refreshed on each request) and after 12 hours
# at most (enforced by AdminSessionTimeoutMiddleware from the login time).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
ADMIN_SESSION_MAX_AGE = timedelta(hours=12)

# --- REST framework: fails closed. A view must declare its permissions. ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "opsconsole.api.authentication.ServiceTokenAuthentication",
        # A console session counts only once it passed its second factor.
        "opsconsole.staffauth.session.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "opsconsole.api.permissions.DeclaredPermissions",
        # A service token also needs the endpoint's declared scope (opsconsole/api/scopes.py).
        "opsconsole.api.scopes.TokenScopes",
    ],
    # On the shared cache, 429 with Retry-After: per token past API_TOKEN_RATE, per staff user
    # calling with a console session past API_SESSION_RATE.
    "DEFAULT_THROTTLE_CLASSES": [
        "opsconsole.api.throttling.ServiceTokenRateThrottle",
        "opsconsole.api.throttling.StaffSessionRateThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["opsconsole.api.parsers.GuardedJSONParser"],
    "EXCEPTION_HANDLER": "opsconsole.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "opsconsole.api.schema.ConsoleAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

# Requests per token ("N/s", "N/min", "N/hour"); each token counts on its own.
API_TOKEN_RATE = env_str("OPSCONSOLE_API_TOKEN_RATE", default="1200/min")
# Requests per staff user calling the API with a console session; each user counts on their own.
API_SESSION_RATE = env_str("OPSCONSOLE_API_SESSION_RATE", default="300/min")

# The cache (API throttles; anything shared between processes): Redis when CACHE_URL names it
# or the Celery broker is Redis, so every gunicorn process counts together; else local memory.
CACHES = {
    "default": cache_from_env(env_str("CACHE_URL", default=""), env_str("CELERY_BROKER_URL", default=""))
}

SPECTACULAR_SETTINGS = {
    "TITLE": "opsconsole API",
    "DESCRIPTION": "Provisioning status, events and ticket intake for the product.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ and /api/redoc/ load Swagger UI and Redoc from drf-spectacular-sidecar's static
    # files (pinned by requirements.lock), never from a CDN; no call to Swagger's validator.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Input serializers get their own components, so required texts carry minLength 1.
    "COMPONENT_SPLIT_REQUEST": True,
    # Several components have a "status" field with different choices; name each set once.
    "ENUM_NAME_OVERRIDES": {
        "ProvisioningStatusEnum": "accounts.choices.ProvisioningStatus",
        "StepStatusEnum": "accounts.choices.StepStatus",
        "EntitlementKindEnum": "accounts.choices.EntitlementKind",
        "EntitlementTypeEnum": "accounts.api.serializers.ENTITLEMENT_TYPES",
    },
}

# --- Celery. An unset broker means tasks run eagerly in-process (make run, most tests). ---
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # An eager apply_async still takes a producer from the pool (for its serializer), which
    # builds a connection (never opened): with an empty URL kombu warns "No hostname was
    # supplied" on every task. The in-memory transport with a host named stays quiet.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_BEAT_SCHEDULE = {
    # Hourly; a run picks a full scan itself when the last one is a day old (the nightly scan).
    "reconcile-stripe": {"task": "accounts.reconcile", "schedule": 60 * 60, "args": ("stripe",)},
    "reconcile-crm": {"task": "accounts.reconcile", "schedule": 60 * 60, "args": ("crm",)},
    "requeue-pending-stripe-events": {
        "task": "accounts.requeue_pending_stripe_events",
        "schedule": 5 * 60,
    },
    # Breaches are recorded once each (a unique key), so an overlapping run does no harm.
    "routing-sla-check": {"task": "routing.sla_check", "schedule": 60.0, "options": {"expires": 55}},
}

# --- Integrations ---
STRIPE_API_KEY = env_str("STRIPE_API_KEY", default="")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", default="")
HUBSPOT_ACCESS_TOKEN = env_str("HUBSPOT_ACCESS_TOKEN", default="")
HUBSPOT_API_BASE = env_str("HUBSPOT_API_BASE", default="https://api.hubapi.com")
# The CRM adapter class the reconciler uses (a Salesforce one can be dropped in).
CRM_ADAPTER = env_str("CRM_ADAPTER", default="accounts.billing.crm.HubSpotAdapter")
# The product is the system of record for lifecycle stages: a CRM run pushes ours (outbox).
CRM_PUSH_LIFECYCLE = env_bool("CRM_PUSH_LIFECYCLE", default=False)
# The help desk routing decisions and close-the-loop replies go to (routing/support/helpdesk.py).
HELPDESK_ADAPTER = env_str("HELPDESK_ADAPTER", default="routing.support.helpdesk.ZendeskAdapter")
ZENDESK_API_BASE = env_str("ZENDESK_API_BASE", default="")
ZENDESK_EMAIL = env_str("ZENDESK_EMAIL", default="")
ZENDESK_API_TOKEN = env_str("ZENDESK_API_TOKEN", default="")
ALERT_WEBHOOK_URL = env_str("ALERT_WEBHOOK_URL", default="")
PRODUCT_WEBHOOK_URL = env_str("PRODUCT_WEBHOOK_URL", default="")

# --- Logging: one structured line per event (logfmt on stderr), each with its request_id. ---
# Standard-library loggers go through the same formatter, so Django's, Celery's and ours look
# alike. Django's own request loggers are off: the one request_finished line (4xx as a warning,
# no traceback) or request_failed (5xx, with the traceback) says the same thing once.
_LOG_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        *_LOG_PROCESSORS,
        structlog.processors.StackInfoRenderer(),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.LogfmtRenderer(
                    key_order=["timestamp", "level", "event", "logger", "request_id"], drop_missing=True
                ),
            ],
            "foreign_pre_chain": [*_LOG_PROCESSORS, structlog.stdlib.ExtraAdder(allow=["status_code"])],
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "structured"},
        # Without a handler Python's last-resort handler would print their warnings anyway.
        "discard": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's defaults give "django" its own console handler in debug mode, on top of the
        # root's: every line twice. No handler here; it propagates to the root once.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # The 403/404 lines with a traceback each (exc_info), and runserver's access lines: both
        # repeat django_structlog's request_finished.
        "django.request": {"handlers": ["discard"], "propagate": False},
        "django.server": {"handlers": ["discard"], "propagate": False},
        "django.security.DisallowedHost": {"handlers": ["discard"], "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # The stripe SDK logs every request at INFO; that buries reconcile progress and alerts.
        "stripe": {"level": "WARNING"},
        # django-axes logs every attempt at INFO; its warnings (lockouts) stay.
        "axes": {"level": "WARNING"},
    },
}
# django-structlog: keep a well-formed incoming X-Request-ID (RequestIdMiddleware vets it) and
# carry it into the Celery tasks a request enqueues.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False

# --- Guarded actions (opsconsole.actions) ---
# A plan change whose MRR moves by more than this needs a second person (cents).
ACTION_APPROVAL_MRR_THRESHOLD_CENTS = int(env_str("ACTION_APPROVAL_MRR_THRESHOLD_CENTS", default="50000"))
ACTION_APPROVAL_TTL = timedelta(hours=int(env_str("ACTION_APPROVAL_TTL_HOURS", default="24")))
# An approval still pending after this raises an alert (once).
ACTION_APPROVAL_SLA = timedelta(minutes=int(env_str("ACTION_APPROVAL_SLA_MINUTES", default="60")))
# How long a reviewed dry-run preview may be committed.
ACTION_PREVIEW_MAX_AGE = timedelta(minutes=30)
# Product commands (the outbox): signed with this secret, retried with exponential backoff.
PRODUCT_WEBHOOK_SECRET = env_str("PRODUCT_WEBHOOK_SECRET", default="")
OUTBOX_MAX_ATTEMPTS = int(env_str("OUTBOX_MAX_ATTEMPTS", default="6"))
OUTBOX_BACKOFF_SECONDS = float(env_str("OUTBOX_BACKOFF_SECONDS", default="30"))
CELERY_BEAT_SCHEDULE.update(
    {
        "approvals-sla": {"task": "opsconsole.approvals_check_sla", "schedule": 300.0},
        "outbox-sweep": {"task": "opsconsole.outbox_sweep", "schedule": 60.0},
        # Daily, after midnight UTC: the metric snapshots of the recent signup days (reports).
        "reports-metrics-snapshot": {
            "task": "reports.metrics_snapshot",
            "schedule": crontab(minute=20, hour=0),
        },
        # Hourly: the snapshots of ramping channels; a no-op until gates registers its ramps.
        "reports-metrics-snapshot-ramping": {"task": "reports.metrics_snapshot_ramping", "schedule": 60 * 60},
    }
)

# --- Staff sign-in: second factor, lockout, login audit (opsconsole/staffauth/) ---
# Every console page needs a session verified by a second factor (TOTP, a recovery code or a
# passkey). Off only for `make run`'s demo (DJANGO_DEBUG=1), and the console says so in a banner.
TWO_FACTOR_REQUIRED = env_bool("OPSCONSOLE_2FA_REQUIRED", default=True)
if not TWO_FACTOR_REQUIRED and not DEBUG:
    raise ImproperlyConfigured(
        "OPSCONSOLE_2FA_REQUIRED=0 is for the local demo only (DJANGO_DEBUG=1); production always asks "
        "staff for a second factor."
    )
OTP_TOTP_ISSUER = "Ops console"
# Passkeys (django-otp-webauthn) are a second factor here, never a way around the password.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "Ops console"
OTP_WEBAUTHN_HELPER_CLASS = "opsconsole.staffauth.passkeys.ConsoleWebAuthnHelper"
_WEB_HOSTS = [h.lstrip(".") for h in ALLOWED_HOSTS if h != "*" and not h.replace(".", "").isdigit()]
# The passkeys' relying party: the console's domain. Passkeys registered under one ID work only
# under it (and its subdomains), so set it once, before staff register any.
OTP_WEBAUTHN_RP_ID = env_str("OPSCONSOLE_WEBAUTHN_RP_ID", default=(_WEB_HOSTS or ["localhost"])[0])
# The origins a passkey ceremony may come from (https://host[:port]).
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list(
    "OPSCONSOLE_WEBAUTHN_ORIGINS",
    default=[f"https://{host}" for host in _WEB_HOSTS] or ["http://localhost"],
)
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = "opsconsole.staffauth.passkeys"

# Lockout (django-axes, its database handler): 5 failures within 15 minutes lock the username
# and, separately, the client address, for 15 minutes after the last failure or until an ops
# lead lifts the lock. The handler reserves each attempt before the password is checked, so
# parallel attempts cannot slip past the count (opsconsole/staffauth/lockout.py).
AXES_HANDLER = "opsconsole.staffauth.lockout.ReservingDatabaseHandler"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lock does not extend it (else anyone could keep a colleague out).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "opsconsole.staffauth.requests.client_ip"
AXES_LOCKOUT_CALLABLE = "opsconsole.staffauth.views.locked_out_response"
# The console's own pages show lockouts and the login audit; axes' admin pages stay off.
AXES_ENABLE_ADMIN = False
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Reverse proxies in front of the console that append the client to X-Forwarded-For: the
# client address is the one the nearest of them saw. 0: REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = int(env_str("OPSCONSOLE_TRUSTED_PROXIES", default="0"))

# --- Reports: the constraint list, the data-quality panel, timelines (reports/constraints) ---
# The ranked constraint list: cost = accounts hit x handling minutes x risk weight, where the
# risk weight is the mean over the accounts hit of
#   shape value x (1 + MRR in dollars / MRR_UNIT) x (BLOCKING_FACTOR if the reason blocks the
#   account's activation, else 1)
REPORTS_CONSTRAINT_WEIGHTS = {
    "shape_value": {
        "free_trial": 1.0,
        "self_serve_team": 1.5,
        "sales_assisted_business": 3.0,
        "enterprise": 4.0,
    },
    "mrr_unit_dollars": 1000,
    "blocking_factor": 3.0,
}
# The data-quality panel flags a check whose count over the range is above its threshold.
REPORTS_QUALITY_THRESHOLDS = {
    "no_channel_source": 10,
    "unmatched_events": 0,
    "events_before_signup": 0,
    "late_events": 50,
    "duplicate_workspaces": 5,
    "unmatched_billing": 0,
}
# An event is late when recorded this long after it occurred.
REPORTS_LATE_EVENT_HOURS = 24
# Account timelines highlight a gap longer than this between two rows.
REPORTS_TIMELINE_GAP_HOURS = 24
# Operational drag: a Stripe event still pending after this long is stuck; a running
# reconciliation run with no heartbeat for this long has stalled.
REPORTS_STUCK_AFTER_MINUTES = 60
