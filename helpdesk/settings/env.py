"""The one place that reads the process environment.

Every variable is documented in .env.example. Other settings modules import the values from here
instead of calling os.environ themselves, so a missing or malformed variable fails in one place.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.exists():
    environ.Env.read_env(str(_dotenv), overwrite=False)

SECRET_KEY = env.str(
    "SECRET_KEY", default="dev-insecure-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
)
DEBUG = env.bool("DEBUG", default=False)
DATABASE_URL = env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/helpdesk")
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost")
# Port and scheme used when we build absolute links to a workspace (emails, redirects after signup).
PUBLIC_PORT = env.int("PUBLIC_PORT", default=8000)
PUBLIC_SCHEME = env.str("PUBLIC_SCHEME", default="http")
EXTRA_ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
EMAIL_URL = env.str("EMAIL_URL", default="")
ANYMAIL_API_KEY = env.str("ANYMAIL_API_KEY", default="")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="")
OUTBOX_DIR = env.str("OUTBOX_DIR", default=str(BASE_DIR / ".data" / "outbox"))
INBOUND_EMAIL_DOMAIN = env.str("INBOUND_EMAIL_DOMAIN", default="mail.localhost")
INBOUND_SMTP_HOST = env.str("INBOUND_SMTP_HOST", default="127.0.0.1")
INBOUND_SMTP_PORT = env.int("INBOUND_SMTP_PORT", default=2525)
INBOUND_SMTP_ENABLED = env.bool("INBOUND_SMTP_ENABLED", default=True)
EMAIL_MAX_MB = env.int("EMAIL_MAX_MB", default=25)
EMAIL_ATTACHMENT_MAX_MB = env.int("EMAIL_ATTACHMENT_MAX_MB", default=15)
# Key for secrets kept in the database (IMAP passwords); derived from SECRET_KEY when unset.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
IMAP_ALLOW_PRIVATE_HOSTS = env.bool("IMAP_ALLOW_PRIVATE_HOSTS", default=False)
# Inbound email webhooks (settings/anymail.py): basic-auth "user:password" values, Mailgun's HTTP
# webhook signing key, and the SNS topics Amazon SES may post from.
ANYMAIL_WEBHOOK_SECRET = env.list("ANYMAIL_WEBHOOK_SECRET", default=[])
MAILGUN_WEBHOOK_SIGNING_KEY = env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default="")
AMAZON_SES_INBOUND_TOPIC_ARNS = env.list("AMAZON_SES_INBOUND_TOPIC_ARNS", default=[])
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media"))
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
TENANT_SPARE_SCHEMAS = env.int("TENANT_SPARE_SCHEMAS", default=3)
CELERY_ALWAYS_EAGER = env.bool("CELERY_ALWAYS_EAGER", default=False)
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# Serve /static/ from the ASGI app itself (single-box installs without a separate web server).
SERVE_STATIC = env.bool("SERVE_STATIC", default=True)
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=False)

# Live chat limits, "<count>/<seconds>". Per IP: widget socket connections and messages; per
# visitor: messages. Raise them for load tests run from one machine.
WIDGET_RATE_CONNECTIONS_PER_IP = env.str("WIDGET_RATE_CONNECTIONS_PER_IP", default="60/60")
WIDGET_RATE_MESSAGES_PER_VISITOR = env.str("WIDGET_RATE_MESSAGES_PER_VISITOR", default="20/10")
WIDGET_RATE_MESSAGES_PER_IP = env.str("WIDGET_RATE_MESSAGES_PER_IP", default="120/60")
# Largest attachment accepted in chat, in megabytes.
CHAT_ATTACHMENT_MAX_MB = env.int("CHAT_ATTACHMENT_MAX_MB", default=10)
# Mounts /ws/bench/relay/, a bare relay consumer used as the floor by bench/chat_load.py.
# Never enable it in production.
BENCH_RELAY_ENABLED = env.bool("BENCH_RELAY_ENABLED", default=False)
# Database threads per web process for WebSocket consumers (each holds one connection).
REALTIME_DB_THREADS = env.int("REALTIME_DB_THREADS", default=8)
# Widget messages are written in batches; workspaces are spread over this many lanes, whose
# batches are written side by side (helpdesk/realtime/batching.py). At most REALTIME_DB_THREADS.
REALTIME_WRITE_LANES = env.int("REALTIME_WRITE_LANES", default=2)
