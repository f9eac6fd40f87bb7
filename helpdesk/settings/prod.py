from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.env import SECRET_KEY as _secret

if _secret.startswith("dev-insecure"):
    raise RuntimeError("Set SECRET_KEY in the environment for production.")
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
