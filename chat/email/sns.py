"""Amazon SNS message signatures, which django-anymail does not check.

SNS signs every notification with a certificate it publishes on its own HTTPS endpoint; a post
that does not verify did not come from SNS. Certificates and subscription confirmations are only
fetched from URLs matching settings.SNS_URL_RE (Amazon's SNS hosts), never from whatever URL a
forged notification names.

https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
"""

from __future__ import annotations

import base64
import re
import urllib.request
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core.cache import cache

_FETCH_TIMEOUT = 10
_CERT_MAX_BYTES = 64 * 1024
_CERT_CACHE_SECONDS = 24 * 3600

# The fields signed, in this order, for each message type (absent optional ones are skipped).
_SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SIGNED_FIELDS["UnsubscribeConfirmation"] = _SIGNED_FIELDS["SubscriptionConfirmation"]
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}


class SnsVerificationError(Exception):
    pass


def sns_url_allowed(url: str) -> bool:
    return bool(re.match(settings.SNS_URL_RE, url or ""))


def sns_message_verify(message: dict[str, Any]) -> None:
    """Raise SnsVerificationError unless `message` carries a valid SNS signature."""
    fields = _SIGNED_FIELDS.get(str(message.get("Type")))
    algorithm = _HASHES.get(str(message.get("SignatureVersion")))
    if fields is None or algorithm is None:
        raise SnsVerificationError("Unknown SNS message type or signature version.")
    cert_url = str(message.get("SigningCertURL") or message.get("SigningCertUrl") or "")
    if not sns_url_allowed(cert_url):
        raise SnsVerificationError("SNS signing certificate URL is not Amazon's.")
    signed = "".join(
        f"{name}\n{message[name]}\n" for name in fields if message.get(name) is not None
    )
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except ValueError as err:
        raise SnsVerificationError("SNS signature is not base64.") from err
    public_key = _signing_certificate(cert_url).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SnsVerificationError("SNS signing certificate does not hold an RSA key.")
    try:
        public_key.verify(signature, signed.encode(), padding.PKCS1v15(), algorithm())
    except InvalidSignature as err:
        raise SnsVerificationError("SNS signature does not match.") from err


def sns_subscription_confirm(message: dict[str, Any]) -> None:
    """Visit the SubscribeURL of a verified SubscriptionConfirmation (what the console's
    "confirm subscription" does), so pointing SES at the webhook needs no manual step."""
    url = str(message.get("SubscribeURL") or "")
    if not sns_url_allowed(url):
        raise SnsVerificationError("SNS SubscribeURL is not Amazon's.")
    with urllib.request.urlopen(url, timeout=_FETCH_TIMEOUT) as response:  # noqa: S310
        response.read(_CERT_MAX_BYTES)


def _signing_certificate(url: str) -> x509.Certificate:
    key = "sns-cert:" + url
    pem = cache.get(key)
    if pem is None:
        try:
            with urllib.request.urlopen(url, timeout=_FETCH_TIMEOUT) as response:  # noqa: S310
                pem = response.read(_CERT_MAX_BYTES + 1)
        except OSError as err:
            raise SnsVerificationError(f"SNS signing certificate not fetched: {err}") from err
        if len(pem) > _CERT_MAX_BYTES:
            raise SnsVerificationError("SNS signing certificate is too large.")
        cache.set(key, pem, _CERT_CACHE_SECONDS)
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as err:
        raise SnsVerificationError("SNS signing certificate is not a PEM certificate.") from err
