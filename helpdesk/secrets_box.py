"""Short secrets kept in the database (IMAP passwords), encrypted with Fernet.

The key is FIELD_ENCRYPTION_KEY (urlsafe base64 of 32 bytes, as `Fernet.generate_key()` prints
it) or, when that is empty, one derived from SECRET_KEY, so an installation works without setting
anything more. Either way, changing the key makes the stored secrets unreadable: decrypting then
raises SecretUnreadable, which callers turn into "enter it again" rather than a crash.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Fixed, so the same SECRET_KEY always gives the same key; a different purpose would use its own
# context and so never share a key with this one.
_HKDF_INFO = b"helpdesk.secrets_box.v1"


class SecretUnreadable(Exception):
    """A stored secret can't be decrypted: the key it was encrypted with is gone."""

    def __init__(self) -> None:
        super().__init__(
            "Stored password can't be decrypted (was SECRET_KEY changed?) — enter it again."
        )


def _key() -> bytes:
    configured = settings.FIELD_ENCRYPTION_KEY
    if configured:
        try:
            raw = base64.urlsafe_b64decode(configured.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY must be 32 bytes in urlsafe base64; create one with "
                'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())"'
            )
        return configured.encode("ascii")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        settings.SECRET_KEY.encode()
    )
    return base64.urlsafe_b64encode(derived)


def secret_encrypt(value: str) -> str:
    """A token safe to store; a new one on every call (Fernet adds a random IV)."""
    return Fernet(_key()).encrypt(value.encode()).decode("ascii")


def secret_decrypt(token: str) -> str:
    try:
        return Fernet(_key()).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError):
        raise SecretUnreadable() from None
