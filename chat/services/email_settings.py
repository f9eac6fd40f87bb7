"""Writes on the workspace's mail settings and its polled IMAP mailbox. Admins only.

Every rule is checked here, whichever door a change comes in by; the settings form calls the
same normalizers only to show each error beside its field.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from chat.email.ack_templates import (
    BODY_MAX_LENGTH,
    BUILT_IN,
    DEFAULT_LANGUAGE,
    PLACEHOLDERS,
    SUBJECT_MAX_LENGTH,
    ack_render_text,
    ack_subject_finish,
    ack_values,
    language_match,
    unknown_placeholders,
)
from chat.email.imap_client import (
    ImapFailure,
    ImapHostRefused,
    ImapServer,
    error_sentence,
    imap_host_resolve,
    imap_session,
)
from chat.models import EmailSettings, ImapMailbox
from chat.selectors.email_settings import email_settings_get, imap_mailbox_get
from helpdesk.field_checks import fields_check, has_control_characters
from helpdesk.secrets_box import SecretUnreadable, secret_decrypt, secret_encrypt
from tenants.agents.models import User
from tenants.agents.permissions import workspace_manage_check
from tenants.workspace.selectors import workspace_settings_get

SUPPORT_NAME_MAX_LENGTH = 120
IMAP_USERNAME_MAX_LENGTH = 320
IMAP_PASSWORD_MAX_LENGTH = 1000
IMAP_FOLDER_MAX_LENGTH = 200
# "Test connection" runs inside the page request: answer quickly or say it timed out.
IMAP_TEST_TIMEOUT_SECONDS = 10
T = TypeVar("T")
_HOST_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _placeholder_list() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


# ---- Sending: support address and name ----


def support_address_normalize(value: str) -> str:
    """The merchant's own support address (blank: replies go out from the inbound address)."""
    if "\r" in value or "\n" in value:
        raise ValidationError("Enter one email address, without line breaks.", code="newline")
    address = value.strip()
    if not address:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError(
            f"“{address[:80]}” is not a valid email address, e.g. support@shop.com.",
            code="invalid_email",
        ) from None
    local, _, domain = address.rpartition("@")
    address = f"{local}@{domain.lower()}"
    if domain.lower() == settings.INBOUND_EMAIL_DOMAIN:
        raise ValidationError(
            "That is an address of ours. Enter the address your customers write to, such as "
            "support@shop.com; leave it empty to reply from your inbound address.",
            code="inbound_domain",
        )
    return address


def support_name_normalize(value: str) -> str:
    if "\r" in value or "\n" in value or has_control_characters(value):
        raise ValidationError(
            "Use letters, digits and punctuation only, on one line.", code="invalid"
        )
    name = " ".join(value.split())
    if len(name) > SUPPORT_NAME_MAX_LENGTH:
        raise ValidationError(
            f"Keep the name to {SUPPORT_NAME_MAX_LENGTH} characters (it has {len(name)}).",
            code="too_long",
        )
    return name


# ---- Acknowledgement auto-reply templates ----


def _placeholders_check(text: str, *, part: str) -> None:
    unknown = unknown_placeholders(text)
    if unknown:
        raise ValidationError(
            f"{unknown[0]} in the {part} is not a placeholder we know. You can use "
            f"{_placeholder_list()}.",
            code="unknown_placeholder",
        )


def ack_subject_normalize(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValidationError("Keep the subject on one line.", code="newline")
    if has_control_characters(value):
        raise ValidationError("Use letters, digits and punctuation only.", code="invalid")
    subject = value.strip()
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise ValidationError(
            f"Keep the subject to {SUBJECT_MAX_LENGTH} characters (it has {len(subject)}).",
            code="too_long",
        )
    _placeholders_check(subject, part="subject")
    return subject


def ack_body_normalize(value: str) -> str:
    body = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(body) > BODY_MAX_LENGTH:
        raise ValidationError(
            f"Keep the message to {BODY_MAX_LENGTH:,} characters (it has {len(body):,}).",
            code="too_long",
        )
    if has_control_characters(body, allow_newlines=True):
        raise ValidationError("Use letters, digits and punctuation only.", code="invalid")
    _placeholders_check(body, part="message")
    return body


def ack_languages() -> dict[str, str]:
    """Languages a template can be written for: the product's languages."""
    return {code: str(name) for code, name in settings.LANGUAGES}


def ack_templates_normalize(templates: dict) -> dict[str, dict[str, str]]:
    """{language: {"subject", "body"}}; a language with both parts empty is dropped (it uses
    the built-in wording), one with only one part is refused."""
    if not isinstance(templates, dict):
        raise ValidationError("Templates must map a language to a subject and a message.")
    languages = ack_languages()
    errors: list[ValidationError] = []
    result: dict[str, dict[str, str]] = {}
    for code, template in templates.items():
        if code not in languages:
            errors.append(
                ValidationError(
                    f"“{str(code)[:20]}” is not one of the languages offered.",
                    code="invalid_language",
                )
            )
            continue
        if not isinstance(template, dict):
            errors.append(ValidationError(f"{languages[code]}: enter a subject and a message."))
            continue
        try:
            subject = ack_subject_normalize(str(template.get("subject") or ""))
            body = ack_body_normalize(str(template.get("body") or ""))
        except ValidationError as exc:
            errors.extend(
                ValidationError(f"{languages[code]}: {message}", code=exc.code)
                for message in exc.messages
            )
            continue
        if not subject and not body:
            continue
        if not subject or not body:
            errors.append(
                ValidationError(
                    f"{languages[code]}: fill in both the subject and the message, or clear "
                    "both to use the built-in wording.",
                    code="incomplete",
                )
            )
            continue
        result[code] = {"subject": subject, "body": body}
    if errors:
        raise ValidationError(errors)
    return result


def email_settings_update(
    *,
    actor: User,
    support_address: str,
    support_name: str,
    ack_enabled: bool,
    ack_templates: dict,
) -> EmailSettings:
    """Save the sending options and the auto-reply together (the page edits them together)."""
    workspace_manage_check(actor=actor)
    cleaned, errors = fields_check(
        {
            "support_address": lambda: support_address_normalize(support_address),
            "support_name": lambda: support_name_normalize(support_name),
            "ack_templates": lambda: ack_templates_normalize(ack_templates),
        }
    )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        row = email_settings_get()
        for name, value in cleaned.items():
            setattr(row, name, value)
        row.ack_enabled = bool(ack_enabled)
        row.save(
            update_fields=[
                "support_address",
                "support_name",
                "ack_enabled",
                "ack_templates",
                "updated_at",
            ]
        )
    return row


def email_ack_render(
    *, language: str, ticket_number: int, subject: str, customer_name: str
) -> tuple[str, str]:
    """(subject, body) of the acknowledgement auto-reply for a customer writing in `language`.

    The workspace's own template for that language, else its template for the workspace's
    default language, else the built-in wording (in the customer's language when there is one,
    else the default language's, else English).
    """
    custom = {
        code: template
        for code, template in (email_settings_get().ack_templates or {}).items()
        if isinstance(template, dict) and template.get("subject") and template.get("body")
    }
    default_language = workspace_settings_get().default_language
    chosen: dict | None = None
    for candidates in (custom, BUILT_IN):
        for tag in (language, default_language):
            code = language_match(tag, candidates)
            if code is not None:
                chosen = candidates[code]
                break
        if chosen is not None:
            break
    template = chosen or BUILT_IN[DEFAULT_LANGUAGE]
    values = ack_values(ticket_number=ticket_number, subject=subject, customer_name=customer_name)
    rendered_subject = ack_subject_finish(ack_render_text(str(template["subject"]), values))
    body = ack_render_text(str(template["body"]), values)
    return rendered_subject, body


# ---- The polled IMAP mailbox ----


def imap_host_normalize(value: str) -> str:
    """A mail server's host name or IP address as typed; only the syntax is checked here."""
    shown = value.strip()
    host = shown.lower().rstrip(".")
    if not host:
        raise ValidationError("Enter the IMAP server, e.g. imap.gmail.com.", code="required")
    if "://" in host or "/" in host or "@" in host:
        raise ValidationError(
            "Enter only the server's name, e.g. imap.gmail.com.", code="invalid_host"
        )
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if ":" in host:
        raise ValidationError(
            "Enter only the server's name, e.g. imap.gmail.com, and the port in the Port field.",
            code="invalid_host",
        )
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.split(".")
    if (
        not ascii_host
        or len(ascii_host) > 253
        or not all(_HOST_LABEL_RE.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError(
            f"“{shown[:80]}” is not a valid server name, e.g. imap.gmail.com.",
            code="invalid_host",
        )
    return ascii_host


def _imap_host_check(host: str, port: int) -> str:
    """Refuse a server on a private network at save time (SECURITY.md, server-side requests).

    A name that doesn't resolve now is kept: DNS may be down for a moment, and every poll checks
    again (and reports "can't find the server") before it connects.
    """
    try:
        imap_host_resolve(host, port)
    except ImapHostRefused as exc:
        raise ValidationError(str(exc), code="private_host") from None
    except ImapFailure:
        pass
    return host


def imap_port_validate(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValidationError(
            "Enter a port between 1 and 65535 (usually 993 with SSL).", code="invalid_port"
        )
    return port


def imap_username_normalize(value: str) -> str:
    username = value.strip()
    if not username:
        raise ValidationError("Enter the user name, usually the mailbox's address.", "required")
    if has_control_characters(username) or len(username) > IMAP_USERNAME_MAX_LENGTH:
        raise ValidationError("Enter the user name as your mail provider gives it.", "invalid")
    return username


def imap_password_validate(value: str) -> str:
    if len(value) > IMAP_PASSWORD_MAX_LENGTH or has_control_characters(value):
        raise ValidationError(
            "The password can't contain line breaks or control characters.", code="invalid"
        )
    return value


def imap_folder_normalize(value: str) -> str:
    folder = value.strip() or "INBOX"
    if has_control_characters(folder) or len(folder) > IMAP_FOLDER_MAX_LENGTH:
        raise ValidationError(
            "Enter the folder's name as your mail program shows it, e.g. INBOX.", code="invalid"
        )
    return "INBOX" if folder.upper() == "INBOX" else folder


def imap_mailbox_save(
    *,
    actor: User,
    host: str,
    port: int,
    use_ssl: bool,
    username: str,
    password: str,
    folder: str,
    enabled: bool,
) -> ImapMailbox:
    """Create or change the workspace's mailbox. A blank password keeps the stored one.

    Another server, user or folder is another mailbox: its UIDs mean nothing for the old one,
    so the row is replaced and polling starts afresh (with the recent-mail backfill).
    """
    workspace_manage_check(actor=actor)
    errors: dict[str, list[ValidationError]] = {}
    host = _checked(errors, "host", imap_host_normalize, host)
    port = _checked(errors, "port", imap_port_validate, port)
    username = _checked(errors, "username", imap_username_normalize, username)
    password = _checked(errors, "password", imap_password_validate, password)
    folder = _checked(errors, "folder", imap_folder_normalize, folder)
    if "host" not in errors and "port" not in errors:
        _checked(errors, "host", lambda value: _imap_host_check(value, port), host)
    current = imap_mailbox_get()
    if not password and current is None and "password" not in errors:
        errors["password"] = [ValidationError("Enter the mailbox's password.", "required")]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        if current is not None and (current.host, current.username, current.folder) != (
            host,
            username,
            folder,
        ):
            if not password:
                # The stored password belonged to the old login; keep it only for the same user
                # on the same server.
                if (current.host, current.username) != (host, username):
                    raise ValidationError(
                        {"password": ["Enter the password for the new server or user name."]}
                    )
                password = _stored_password(current)
            current.delete()
            current = None
        row = current or ImapMailbox()
        row.host, row.port, row.use_ssl = host, port, bool(use_ssl)
        row.username, row.folder, row.enabled = username, folder, bool(enabled)
        if password:
            row.password_encrypted = secret_encrypt(password)
        # What went wrong with the old settings says nothing about the new ones.
        row.last_error = ""
        row.save()
    return row


def _checked(
    errors: dict[str, list[ValidationError]], name: str, check: Callable[[T], T], value: T
) -> T:
    """`check(value)`, or `value` unchanged with the error noted under `name`."""
    try:
        return check(value)
    except ValidationError as exc:
        errors[name] = exc.error_list
        return value


def _stored_password(mailbox: ImapMailbox) -> str:
    try:
        return secret_decrypt(mailbox.password_encrypted)
    except SecretUnreadable as exc:
        raise ValidationError({"password": [str(exc)]}) from None


def imap_mailbox_delete(*, actor: User) -> bool:
    """Stop polling and forget the mailbox (its password with it); tickets already made stay."""
    workspace_manage_check(actor=actor)
    deleted, _ = ImapMailbox.objects.all().delete()
    return bool(deleted)


@dataclass(frozen=True)
class ImapTestResult:
    ok: bool
    message: str


def imap_mailbox_test(*, actor: User) -> ImapTestResult:
    """Sign in to the saved mailbox and open its folder, now, with a short timeout. Nothing is
    fetched and the mailbox's poll status is left alone."""
    workspace_manage_check(actor=actor)
    mailbox = imap_mailbox_get()
    if mailbox is None:
        return ImapTestResult(ok=False, message="Save the mailbox's settings first.")
    try:
        server = ImapServer(
            host=mailbox.host,
            port=mailbox.port,
            use_ssl=mailbox.use_ssl,
            username=mailbox.username,
            password=secret_decrypt(mailbox.password_encrypted),
            folder=mailbox.folder,
        )
        with imap_session(server, timeout=IMAP_TEST_TIMEOUT_SECONDS) as folder:
            count = folder.exists
    except (ImapFailure, SecretUnreadable) as exc:
        return ImapTestResult(ok=False, message=error_sentence(str(exc)))
    noun = "message" if count == 1 else "messages"
    return ImapTestResult(
        ok=True,
        message=f"Connected to {mailbox.host}, signed in and opened “{mailbox.folder}” "
        f"({count:,} {noun}).",
    )
