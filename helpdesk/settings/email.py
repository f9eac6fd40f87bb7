from helpdesk.settings import env as E

# EMAIL_URL picks the backend: smtp://user:pass@host:port, smtp+tls://..., "anymail:<esp>" for an
# email provider's API through django-anymail (key in ANYMAIL_API_KEY, see settings/anymail.py),
# or "outbox:" for the development outbox (messages kept as files and readable at /dev/outbox/).
# Unset means outbox when DEBUG is on and local SMTP otherwise.
_url = E.EMAIL_URL or ("outbox:" if E.DEBUG else "smtp://127.0.0.1:25")
if _url.startswith("outbox:"):
    EMAIL_BACKEND = "helpdesk.devtools.outbox.OutboxEmailBackend"
elif _url.startswith("anymail:"):
    EMAIL_BACKEND = f"anymail.backends.{_url.split(':', 1)[1].strip('/')}.EmailBackend"
else:
    _cfg = E.env.email_url_config(_url)
    EMAIL_BACKEND = _cfg["EMAIL_BACKEND"]
    EMAIL_HOST = _cfg.get("EMAIL_HOST", "")
    EMAIL_PORT = _cfg.get("EMAIL_PORT", 25)
    EMAIL_HOST_USER = _cfg.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = _cfg.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _cfg.get("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _cfg.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
OUTBOX_DIR = E.OUTBOX_DIR
DEFAULT_FROM_EMAIL = E.DEFAULT_FROM_EMAIL or f"Helpdesk <no-reply@{E.BASE_DOMAIN}>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Inbound mail: every workspace receives at <slug>@INBOUND_EMAIL_DOMAIN (replies at
# <slug>+<token>@...). The built-in SMTP receiver listens on INBOUND_SMTP_HOST:PORT.
INBOUND_EMAIL_DOMAIN = E.INBOUND_EMAIL_DOMAIN.lower()
INBOUND_SMTP_HOST = E.INBOUND_SMTP_HOST
INBOUND_SMTP_PORT = E.INBOUND_SMTP_PORT
INBOUND_SMTP_ENABLED = E.INBOUND_SMTP_ENABLED
EMAIL_MAX_BYTES = E.EMAIL_MAX_MB * 1024 * 1024
EMAIL_ATTACHMENT_MAX_BYTES = E.EMAIL_ATTACHMENT_MAX_MB * 1024 * 1024
FIELD_ENCRYPTION_KEY = E.FIELD_ENCRYPTION_KEY
# IMAP servers on loopback / private networks are refused (a workspace could otherwise probe the
# installation's network); on-premise installs with a mail server on the LAN switch this on.
IMAP_ALLOW_PRIVATE_HOSTS = E.IMAP_ALLOW_PRIVATE_HOSTS
# Outbound replies: attempts with exponential backoff before a reply is marked failed.
EMAIL_SEND_MAX_RETRIES = 5
