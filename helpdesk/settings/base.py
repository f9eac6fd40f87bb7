"""Settings shared by every environment. Integrations live in their own modules, imported below."""

from helpdesk.settings import env as E

BASE_DIR = E.BASE_DIR
SECRET_KEY = E.SECRET_KEY
DEBUG = E.DEBUG
BASE_DOMAIN = E.BASE_DOMAIN
PUBLIC_PORT = E.PUBLIC_PORT
PUBLIC_SCHEME = E.PUBLIC_SCHEME
SERVE_STATIC = E.SERVE_STATIC

# Workspaces live on "<slug>.<BASE_DOMAIN>" plus custom domains; a leading dot allows subdomains.
# Custom domains are checked against the Domain table by the tenant middleware, so the host
# check itself must let them through.
ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = E.CSRF_TRUSTED_ORIGINS

SHARED_APPS = [
    # tenants before django_tenants: our create_tenant command replaces theirs.
    "tenants",
    "django_tenants",
    "daphne",
    "tenants.agents",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "helpdesk.health",
    "helpdesk.devtools",
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "tenants.agents",
    "tenants.workspace",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "helpdesk.contacts",
    "helpdesk.tickets",
    "chat",
    "routing",
    "knowledge",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "helpdesk.urls_public"
ROOT_URLCONF = "helpdesk.urls_tenant"
DEFAULT_NOT_FOUND_TENANT_VIEW = "tenants.views.unknown_host"
# Schema that new workspaces are cloned from; spare schemas are cloned from it ahead of time.
TENANT_TEMPLATE_SCHEMA = "_template"
TENANT_SPARE_SCHEMAS = E.TENANT_SPARE_SCHEMAS

MIDDLEWARE = [
    "helpdesk.health.middleware.HealthCheckMiddleware",
    "tenants.middleware.TenantHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tenants.middleware.TenantSuspendedMiddleware",
    "tenants.agents.middleware.AgentTimezoneMiddleware",
]

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
                "tenants.context_processors.workspace",
            ],
        },
    },
]

WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

AUTH_USER_MODEL = "agents.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 first: memory-hard and, at its default cost, much cheaper in CPU time than Django's
# PBKDF2 default, which alone would use most of the signup time budget on a 2-core machine.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("zh-hans", "简体中文"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("ja", "日本語"),
    ("pt", "Português"),
    ("ar", "العربية"),
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = E.STATIC_ROOT
MEDIA_URL = "/media/"
MEDIA_ROOT = E.MEDIA_ROOT
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = E.SECURE_COOKIES
CSRF_COOKIE_SECURE = E.SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": E.LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

from helpdesk.settings.anymail import *  # noqa: E402,F403
from helpdesk.settings.api import *  # noqa: E402,F403
from helpdesk.settings.auth import *  # noqa: E402,F403
from helpdesk.settings.cache import *  # noqa: E402,F403
from helpdesk.settings.celery import *  # noqa: E402,F403
from helpdesk.settings.channels import *  # noqa: E402,F403
from helpdesk.settings.chat import *  # noqa: E402,F403
from helpdesk.settings.database import *  # noqa: E402,F403
from helpdesk.settings.email import *  # noqa: E402,F403
