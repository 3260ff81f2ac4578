"""Parley settings, all read from the environment (django-environ).

With nothing set: SQLite and the in-memory channel layer, so `make run` needs nothing
installed. `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and channels-redis.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.layers import channel_layer_for, memory_layer

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "dev-only-not-secret-parley-key-change-me-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "accounts",
    "calls",
    "rooms",
    "appserver",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "calls.context_processors.missed_calls",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
# `postgres:///db?host=/var/run/postgresql` (a unix socket) lands in OPTIONS; make it
# the HOST, where Django and its tools look.
if (
    "host" in DATABASES["default"].get("OPTIONS", {})
    and not DATABASES["default"]["HOST"]
):
    DATABASES["default"]["HOST"] = DATABASES["default"]["OPTIONS"].pop("host")
# Keep database connections open between socket events: Channels runs each ORM call in
# a worker thread and, with the default of 0, opened and closed a PostgreSQL connection
# around every one of them (a third of a busy process's time; docs/performance.md).
# No health checks: Channels closes unusable connections around every ORM call, and a
# check is one more query (SELECT 1) per call.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=300)
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the browser tests' daphne process must see the same data.
    # One per test run, so that two runs on one checkout do not share it.
    DATABASES["default"]["TEST"]["NAME"] = str(
        BASE_DIR / f"test-db-{os.getpid()}.sqlite3"
    )
# Threads (each with its own connection) that run the ORM for the sockets of a process
# (config.db_threads). SQLite takes one writer at a time and keeps one.
DB_THREADS = env.int(
    "DB_THREADS",
    default=1 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 4,
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Parley's Pub/Sub layer (config.redis_layer) by default; "core" is channels-redis'
# list-based layer, which relays far less under load (docs/performance.md).
REDIS_LAYER = env.str("REDIS_LAYER", default="pubsub")
if REDIS_URL:
    try:
        CHANNEL_LAYERS = {"default": channel_layer_for(REDIS_URL, kind=REDIS_LAYER)}
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from None
else:
    CHANNEL_LAYERS = {"default": memory_layer()}
# The cache holds the server API's rate-limit counters, so every process must share it.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve from the finders too, so DEBUG=0 works without a collectstatic step.
WHITENOISE_USE_FINDERS = True

# Production hardening: on whenever DEBUG is off; each one can be relaxed from the
# environment (for instance behind a TLS-terminating proxy on a private network).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("SECURE_PROXY_SSL_HEADER", default=False)
    else None
)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
X_FRAME_OPTIONS = "DENY"

# --- Parley ---
# User tokens (userSig): HS256 JWTs signed with a key derived from SECRET_KEY.
USERSIG_ISSUER = env.str("USERSIG_ISSUER", default="parley")
USERSIG_DEFAULT_TTL = env.int("USERSIG_DEFAULT_TTL", default=24 * 3600)
USERSIG_MAX_TTL = env.int("USERSIG_MAX_TTL", default=180 * 24 * 3600)

# The realtime socket.
SOCKET_AUTH_TIMEOUT = env.float("SOCKET_AUTH_TIMEOUT", default=5.0)
SOCKET_RATE = env.float("SOCKET_RATE", default=50.0)  # frames per second, sustained
SOCKET_BURST = env.int("SOCKET_BURST", default=100)
SOCKET_RATE_STRIKES = env.int("SOCKET_RATE_STRIKES", default=50)

# Presence: each socket refreshes its device row; rows older than the stale limit
# belong to a process that died and are swept.
PRESENCE_HEARTBEAT = env.float("PRESENCE_HEARTBEAT", default=30.0)
PRESENCE_STALE_AFTER = env.float("PRESENCE_STALE_AFTER", default=90.0)

# Rooms nobody used for this long are closed (seed 004 keeps them 48 h).
ROOM_IDLE_TTL = env.float("ROOM_IDLE_TTL", default=48 * 3600)
ROOM_DEFAULT_MEMBER_CAP = env.int("ROOM_DEFAULT_MEMBER_CAP", default=6)
ROOM_MAX_MEMBER_CAP = env.int("ROOM_MAX_MEMBER_CAP", default=16)

CALL_RING_TIMEOUT = env.float("CALL_RING_TIMEOUT", default=60)
# How long a party whose socket closed may take to come back before the call ends
# `disconnect` (100106).
CALL_DISCONNECT_GRACE = env.float("CALL_DISCONNECT_GRACE", default=10)
# Dotted path of the callable that may refuse a call (see calls/policy.py).
CALL_POLICY = env.str("CALL_POLICY", default="calls.policy.allow_all")
STUN_URLS = env.list("STUN_URLS", default=[])
TURN_URLS = env.list("TURN_URLS", default=[])
TURN_SECRET = env.str("TURN_SECRET", default="")
TURN_TTL = env.int("TURN_TTL", default=24 * 3600)
# Test/dev only: the call bot (`manage.py callbot`) also gathers a 127.0.0.1 ICE
# candidate, for a loopback-only network namespace. Never on in a deployment.
CALLBOT_LOOPBACK_ICE = env.bool("CALLBOT_LOOPBACK_ICE", default=False)

# The application server API (/api/server/, docs/server-api.md).
SERVER_API_RATE = env.int("SERVER_API_RATE", default=100)  # requests/s per application
PUSH_MAX_BYTES = env.int("PUSH_MAX_BYTES", default=4096)  # decoded payload
# Webhooks: each process sends due deliveries from a background thread ("thread"), or
# leaves them to `manage.py send_webhooks` ("off"). Failed deliveries are retried after
# these delays (seconds), then given up.
WEBHOOK_SENDER = env.str("WEBHOOK_SENDER", default="thread")
WEBHOOK_RETRY_DELAYS = env.list(
    "WEBHOOK_RETRY_DELAYS", cast=float, default=[2, 4, 8, 16, 32]
)
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=5.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
