"""Django settings, from the environment every server of the bench is given.

DATABASE_URL names the database (its scheme is ignored: Django's PostgreSQL backend on
psycopg2); SECRET_KEY is Django's and signs the JWTs, as in the service;
ACCESS_TOKEN_EXPIRE_MINUTES and ARGON2_* are the service's. A production deployment's
choices: DEBUG off, persistent connections checked before reuse (dj-database-url's
`conn_max_age=600, conn_health_checks=True`, the pool_pre_ping of the seed style), JSON
out only (no browsable API), no sessions, CSRF or contrib apps an API has no use for.
"""

import os
from urllib.parse import unquote, urlsplit

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = ["rest_framework", "bench.drf_peer"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "bench.drf_peer.urls"

_url = urlsplit(os.environ["DATABASE_URL"])
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": unquote(_url.username or ""),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
        # One connection per gunicorn thread (threads = DB_POOL_MAX), kept across requests.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"  # the tables' ids are SERIAL

# Errors (5xx) to stderr, gunicorn's log; Django's default sends them to ADMINS only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "ERROR"}},
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["bench.drf_peer.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "bench.drf_peer.pagination.SkipLimitPagination",
    "EXCEPTION_HANDLER": "bench.drf_peer.views.exception_handler",
    # No django.contrib.auth: an anonymous request's user is None (IsAuthenticated says no).
    "UNAUTHENTICATED_USER": None,
}

# The service's settings for its tokens and password hashes.
ACCESS_TOKEN_EXPIRE_MINUTES = int(os.environ.get("ACCESS_TOKEN_EXPIRE_MINUTES", "60"))
ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "3"))
ARGON2_MEMORY_COST = int(os.environ.get("ARGON2_MEMORY_COST", "65536"))
ARGON2_PARALLELISM = int(os.environ.get("ARGON2_PARALLELISM", "4"))
