"""Secrets at rest: encrypted with FIELD_ENCRYPTION_KEY or a key derived from SECRET_KEY."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from helpdesk.secrets_box import SecretUnreadable, secret_decrypt, secret_encrypt


def test_a_secret_comes_back_and_is_not_readable_in_between(settings):
    settings.FIELD_ENCRYPTION_KEY = ""

    token = secret_encrypt("hunter2 ünïcode")

    assert "hunter2" not in token
    assert secret_decrypt(token) == "hunter2 ünïcode"
    assert secret_encrypt("hunter2 ünïcode") != token  # a fresh IV every time


def test_the_configured_key_is_used_when_set(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    derived = secret_encrypt("pw")
    key = Fernet.generate_key()
    settings.FIELD_ENCRYPTION_KEY = key.decode()

    token = secret_encrypt("pw")

    assert Fernet(key).decrypt(token.encode()) == b"pw"
    with pytest.raises(SecretUnreadable):
        secret_decrypt(derived)


def test_a_changed_secret_key_makes_stored_secrets_unreadable_with_a_clear_message(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    token = secret_encrypt("pw")
    settings.SECRET_KEY = "another-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"

    with pytest.raises(SecretUnreadable) as unreadable:
        secret_decrypt(token)

    assert str(unreadable.value) == (
        "Stored password can't be decrypted (was SECRET_KEY changed?) — enter it again."
    )


@pytest.mark.parametrize("token", ["", "not-a-token", "gAAAAA" + "A" * 80, "ünï"])
def test_garbage_is_unreadable_not_a_crash(settings, token):
    settings.FIELD_ENCRYPTION_KEY = ""

    with pytest.raises(SecretUnreadable):
        secret_decrypt(token)


@pytest.mark.parametrize("key", ["short", "!!!not base64!!!", "YWJj"])
def test_a_malformed_configured_key_fails_loudly(settings, key):
    settings.FIELD_ENCRYPTION_KEY = key

    with pytest.raises(ImproperlyConfigured):
        secret_encrypt("pw")
