"""django-allauth: agent login, password reset, email change, TOTP two-factor."""

from helpdesk.settings import env as E

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "tenants.agents.adapter.AgentAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
# Links in account mail use the scheme the platform is served with (https behind TLS).
ACCOUNT_DEFAULT_HTTP_PROTOCOL = E.PUBLIC_SCHEME
# Counted in the tenant-prefixed cache, so one workspace's failures never lock out another's.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "5/5m/key,20/m/ip",
    "reset_password": "5/m/ip,3/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_email": "3/m/user",
    "manage_email": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Helpdesk"
# Random keys stored in the workspace's schema. The default HMAC keys only sign an EmailAddress
# id, and ids repeat across schemas, so a key minted in one workspace would verify an address
# in another.
ACCOUNT_EMAIL_CONFIRMATION_HMAC = False
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_FORMS = {"add_email": "tenants.agents.forms.AgentAddEmailForm"}
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
