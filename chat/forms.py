"""Forms of the chat settings pages. They parse what the browser sent; the rules themselves are
the services' (chat.services.widget_settings, chat.services.canned), called here only so each
error shows beside its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory

from chat.models import WidgetSettings
from chat.services.canned import BODY_MAX_LENGTH, TITLE_MAX_LENGTH, shortcut_normalize
from chat.services.widget_settings import (
    ALLOWED_DOMAINS_MAX,
    CUSTOM_FIELD_LABEL_MAX_LENGTH,
    CUSTOM_FIELDS_MAX,
    GREETING_MAX_LENGTH,
    REPLY_TIME_CHOICES,
    WIDGET_LANGUAGES,
    CustomFieldSpec,
    allowed_domains_normalize,
    brand_color_normalize,
    greeting_normalize,
)


def _clean_with(normalize: Callable[[Any], Any], value: Any) -> Any:
    try:
        return normalize(value)
    except ValidationError as exc:
        raise ValidationError(exc.error_list) from None


class WidgetSettingsForm(forms.Form):
    enabled = forms.BooleanField(
        required=False,
        label="Show the chat widget on my store",
        help_text="When off, the launcher doesn't appear and nobody can start a chat.",
    )
    brand_color = forms.CharField(
        label="Brand colour",
        max_length=7,
        help_text="The launcher button and the visitor's messages use it. # and six hex digits.",
        widget=forms.TextInput(
            attrs={
                "class": "mono",
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "#2563eb",
                "data-color-text": "",
            }
        ),
    )
    position = forms.ChoiceField(
        label="Launcher position",
        choices=WidgetSettings.Position.choices,
        widget=forms.RadioSelect,
    )
    # The length is checked after line breaks are normalised (browsers send CRLF).
    greeting = forms.CharField(
        required=False,
        label="Greeting",
        help_text=f"The first thing visitors read when they open the chat, up to "
        f"{GREETING_MAX_LENGTH} characters. Leave empty for a default greeting in the "
        "visitor's language.",
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "maxlength": GREETING_MAX_LENGTH,
                "placeholder": "Hi! Questions about an order? We're here to help.",
            }
        ),
    )
    ask_name = forms.BooleanField(required=False, label="Ask for the visitor's name")
    ask_email = forms.ChoiceField(
        label="Ask for an email address",
        choices=WidgetSettings.EmailField.choices,
        help_text="When no agent is online, the widget always asks for an email so your answer "
        "can follow by email.",
    )
    reply_time_minutes = forms.TypedChoiceField(
        label="Expected reply time",
        coerce=int,
        choices=REPLY_TIME_CHOICES,
        help_text="Shown to visitors when nobody is online, in their local time.",
    )
    allowed_domains = forms.CharField(
        required=False,
        label="Allowed store domains",
        help_text=f"One per line, up to {ALLOWED_DOMAINS_MAX}. The widget only opens on pages of "
        "these sites; *.example.com allows every subdomain of example.com. Leave empty to allow "
        "any site.",
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "class": "mono",
                "spellcheck": "false",
                "autocomplete": "off",
                "placeholder": "shop.example.com\n*.example.com",
            }
        ),
    )
    language = forms.ChoiceField(
        required=False,
        label="Widget language",
        choices=WIDGET_LANGUAGES,
        help_text="Automatic shows the widget in the visitor's browser language when we have it, "
        "English otherwise.",
    )

    def __init__(self, *args: Any, current_reply_time: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A value set elsewhere (say, by support) stays selectable instead of silently changing.
        if current_reply_time and current_reply_time not in dict(REPLY_TIME_CHOICES):
            field = self.fields["reply_time_minutes"]
            assert isinstance(field, forms.TypedChoiceField)
            field.choices = [
                *REPLY_TIME_CHOICES,
                (current_reply_time, f"Within {current_reply_time} minutes"),
            ]

    def clean_brand_color(self) -> str:
        return _clean_with(brand_color_normalize, self.cleaned_data["brand_color"])

    def clean_greeting(self) -> str:
        return _clean_with(greeting_normalize, self.cleaned_data["greeting"])

    def clean_allowed_domains(self) -> list[str]:
        lines = self.cleaned_data["allowed_domains"].splitlines()
        return _clean_with(allowed_domains_normalize, lines)


class CustomFieldForm(forms.Form):
    """One extra pre-chat question. A row whose label is empty is dropped on save."""

    label = forms.CharField(
        required=False,
        max_length=CUSTOM_FIELD_LABEL_MAX_LENGTH,
        label="Question",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Order number", "autocomplete": "off"}),
    )
    required = forms.BooleanField(required=False, label="Required")
    # Kept across renames so answers already given stay attached; the service re-checks it.
    key = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)


class BaseCustomFieldFormSet(BaseFormSet):
    default_error_messages = {
        **BaseFormSet.default_error_messages,
        "too_many_forms": f"Ask at most {CUSTOM_FIELDS_MAX} extra questions.",
    }

    def specs(self) -> list[CustomFieldSpec]:
        """The questions to save, in order; call after is_valid()."""
        return [
            CustomFieldSpec(
                label=form.cleaned_data["label"],
                required=form.cleaned_data.get("required", False),
                key=form.cleaned_data.get("key", ""),
            )
            for form in self.forms
            if form.cleaned_data.get("label", "").strip()
        ]


CustomFieldFormSet = formset_factory(
    CustomFieldForm,
    formset=BaseCustomFieldFormSet,
    extra=1,
    max_num=CUSTOM_FIELDS_MAX,
    validate_max=True,
    absolute_max=CUSTOM_FIELDS_MAX,
)


class CannedResponseForm(forms.Form):
    shortcut = forms.CharField(
        label="Shortcut",
        error_messages={"required": "Enter a shortcut, e.g. shipping-time."},
        max_length=41,  # a pasted leading "/" is removed
        help_text="Agents type / and this in the reply box to insert the response. Lowercase "
        "letters, digits, - and _.",
        widget=forms.TextInput(
            attrs={
                "class": "mono",
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "none",
                "placeholder": "shipping-time",
            }
        ),
    )
    title = forms.CharField(
        label="Title",
        error_messages={"required": "Enter a title."},
        max_length=TITLE_MAX_LENGTH,
        help_text="What agents see in the list, e.g. “Shipping times to Europe”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    # The service checks the length once line breaks are normalised (browsers send CRLF).
    body = forms.CharField(
        label="Reply",
        error_messages={"required": "Write the reply this shortcut inserts."},
        help_text=f"The text inserted into the reply box, up to {BODY_MAX_LENGTH:,} characters. "
        "Agents can still edit it before sending.",
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": BODY_MAX_LENGTH}),
    )

    def clean_shortcut(self) -> str:
        return _clean_with(shortcut_normalize, self.cleaned_data["shortcut"])
