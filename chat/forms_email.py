"""Forms of Settings → Email. They parse what the browser sent; the rules are the service's
(chat.services.email_settings), called here only so each error shows beside its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from chat.email.ack_templates import BODY_MAX_LENGTH, BUILT_IN, SUBJECT_MAX_LENGTH
from chat.services.email_settings import (
    SUPPORT_NAME_MAX_LENGTH,
    ack_body_normalize,
    ack_languages,
    ack_subject_normalize,
    imap_folder_normalize,
    imap_host_normalize,
    imap_password_validate,
    imap_username_normalize,
    support_address_normalize,
    support_name_normalize,
)


def _clean_with(normalize: Callable[[Any], Any], value: Any) -> Any:
    try:
        return normalize(value)
    except ValidationError as exc:
        raise ValidationError(exc.error_list) from None


def ack_field_names(code: str) -> tuple[str, str]:
    return f"ack_{code}_subject", f"ack_{code}_body"


class EmailSettingsForm(forms.Form):
    support_address = forms.CharField(
        required=False,
        max_length=254,
        label="Your support address",
        widget=forms.EmailInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "support@shop.com"}
        ),
    )
    support_name = forms.CharField(
        required=False,
        max_length=SUPPORT_NAME_MAX_LENGTH,
        label="Sender name",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    ack_enabled = forms.BooleanField(
        required=False,
        label="Answer new emails automatically with the ticket number",
        help_text="Sent once per new ticket, never to automatic mail (out-of-office replies, "
        "mailing lists, bounces) and at most a few times an hour to one address.",
    )

    def __init__(
        self, *args: Any, inbound_address: str = "", workspace_name: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["support_address"].help_text = (
            "The address your customers write to. Replies to tickets are sent from it, so "
            f"forward it to {inbound_address} (below). Leave empty to reply from "
            f"{inbound_address}."
        )
        self.fields["support_name"].help_text = (
            "Shown as the sender of replies, e.g. “Acme Support”. Leave empty to use "
            f"“{workspace_name}”."
        )
        self.fields["support_name"].widget.attrs["placeholder"] = workspace_name
        for code in ack_languages():
            subject_name, body_name = ack_field_names(code)
            built_in = BUILT_IN.get(code, BUILT_IN["en"])
            self.fields[subject_name] = forms.CharField(
                required=False,
                label="Subject",
                max_length=SUBJECT_MAX_LENGTH + 20,  # the service reports the exact limit
                widget=forms.TextInput(
                    attrs={
                        "placeholder": built_in["subject"],
                        "autocomplete": "off",
                        "lang": code,
                        "dir": "auto",
                    }
                ),
            )
            self.fields[body_name] = forms.CharField(
                required=False,
                label="Message",
                strip=False,
                widget=forms.Textarea(
                    attrs={
                        "rows": 7,
                        "maxlength": BODY_MAX_LENGTH,
                        "placeholder": built_in["body"],
                        "lang": code,
                        "dir": "auto",
                    }
                ),
            )

    def clean_support_address(self) -> str:
        return _clean_with(support_address_normalize, self.cleaned_data["support_address"])

    def clean_support_name(self) -> str:
        return _clean_with(support_name_normalize, self.cleaned_data["support_name"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for code in ack_languages():
            for name, normalize in zip(
                ack_field_names(code), (ack_subject_normalize, ack_body_normalize), strict=True
            ):
                if name in data:
                    try:
                        data[name] = normalize(data[name])
                    except ValidationError as exc:
                        self.add_error(name, exc.error_list)
        return data

    def ack_templates(self) -> dict[str, dict[str, str]]:
        """{language: {"subject", "body"}} as typed (after is_valid); the service drops the
        languages left empty and refuses half-filled ones."""
        result: dict[str, dict[str, str]] = {}
        for code in ack_languages():
            subject_name, body_name = ack_field_names(code)
            subject = self.cleaned_data.get(subject_name, "")
            body = self.cleaned_data.get(body_name, "")
            if subject or body:
                result[code] = {"subject": subject, "body": body}
        return result


class ImapMailboxForm(forms.Form):
    host = forms.CharField(
        label="IMAP server",
        max_length=255,
        error_messages={"required": "Enter the IMAP server, e.g. imap.gmail.com."},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "none",
                "placeholder": "imap.gmail.com",
            }
        ),
    )
    port = forms.IntegerField(
        label="Port",
        min_value=1,
        max_value=65535,
        initial=993,
        error_messages={"required": "Enter the port, usually 993."},
        help_text="993 with SSL, 143 without.",
    )
    use_ssl = forms.BooleanField(
        required=False,
        initial=True,
        label="Use SSL",
        help_text="Without SSL the connection is upgraded with STARTTLS when the server offers it.",
    )
    username = forms.CharField(
        label="User name",
        max_length=320,
        error_messages={"required": "Enter the user name, usually the mailbox's address."},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        required=False,
        label="Password",
        strip=False,
        # Never sent back to the browser: the field is always empty when the page loads.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    folder = forms.CharField(
        required=False,
        label="Folder",
        max_length=200,
        initial="INBOX",
        help_text="Where new support mail arrives; INBOX unless a rule files it elsewhere.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    enabled = forms.BooleanField(
        required=False,
        initial=True,
        label="Check this mailbox every minute",
    )

    def __init__(self, *args: Any, has_password: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = (
            "Saved encrypted and never shown again. Leave blank to keep the saved password."
            if has_password
            else "For Gmail and Outlook, create an app password in your account's security "
            "settings and use it here."
        )

    def clean_host(self) -> str:
        return _clean_with(imap_host_normalize, self.cleaned_data["host"])

    def clean_username(self) -> str:
        return _clean_with(imap_username_normalize, self.cleaned_data["username"])

    def clean_password(self) -> str:
        return _clean_with(imap_password_validate, self.cleaned_data["password"])

    def clean_folder(self) -> str:
        return _clean_with(imap_folder_normalize, self.cleaned_data["folder"])
