"""Email providers' inbound webhooks (django-anymail), mounted at /webhooks/email/<esp>/inbound/.

Every webhook is refused (403, nothing stored) until its secret is set: anymail itself would
accept unauthenticated posts with only a warning. See docs/email.md, "Receiving email".
"""

from helpdesk.settings import env as E

ANYMAIL: dict[str, object] = {}
# HTTP basic auth "user:password" the provider puts in the webhook URL; several (comma-separated)
# while rotating. Required by Postmark, SendGrid and Amazon SES, checked for Mailgun when set.
if E.ANYMAIL_WEBHOOK_SECRET:
    ANYMAIL["WEBHOOK_SECRET"] = E.ANYMAIL_WEBHOOK_SECRET
# Only when set: an empty key would make anymail check Mailgun's HMAC against a key anyone knows.
if E.MAILGUN_WEBHOOK_SIGNING_KEY:
    ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"] = E.MAILGUN_WEBHOOK_SIGNING_KEY
# SNS topics allowed to post inbound mail from Amazon SES; empty allows any topic whose
# notification carries our basic auth and a valid Amazon signature.
AMAZON_SES_INBOUND_TOPIC_ARNS = E.AMAZON_SES_INBOUND_TOPIC_ARNS
# Where SNS signing certificates and subscription confirmations may be fetched from: Amazon's
# SNS endpoints over HTTPS only, so a forged notification cannot make us fetch other URLs.
SNS_URL_RE = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"

# Sending through a provider's API: EMAIL_URL=anymail:<esp> picks the backend (settings/email.py)
# and ANYMAIL_API_KEY is that provider's key, under the name anymail expects for it.
_API_KEY_SETTING = {
    "brevo": "BREVO_API_KEY",
    "mailersend": "MAILERSEND_API_TOKEN",
    "mailgun": "MAILGUN_API_KEY",
    "postmark": "POSTMARK_SERVER_TOKEN",
    "resend": "RESEND_API_KEY",
    "sendgrid": "SENDGRID_API_KEY",
    "sparkpost": "SPARKPOST_API_KEY",
}
if E.EMAIL_URL.startswith("anymail:"):
    _esp = E.EMAIL_URL.split(":", 1)[1].strip("/")
    if _esp in _API_KEY_SETTING and E.ANYMAIL_API_KEY:
        ANYMAIL[_API_KEY_SETTING[_esp]] = E.ANYMAIL_API_KEY
