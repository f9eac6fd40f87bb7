from __future__ import annotations

from django import forms
from django.conf import settings

from tenants.agents.forms import PictureField, TimezoneField, plain_text_validate
from tenants.workspace.services import NAME_MAX_LENGTH


class WorkspaceSettingsForm(forms.Form):
    name = forms.CharField(
        label="Company name", max_length=NAME_MAX_LENGTH, validators=[plain_text_validate]
    )
    logo = PictureField(
        max_side=512,
        label="Logo",
        help_text="Square works best. PNG, JPEG, GIF or WebP, up to 2 MB.",
    )
    logo_remove = forms.BooleanField(required=False, label="Remove logo")
    timezone = TimezoneField(
        label="Workspace timezone",
        help_text="Used for business hours and reports, and for new agents until they pick "
        "their own.",
    )
    default_language = forms.ChoiceField(
        label="Default language",
        choices=settings.LANGUAGES,
        help_text="New agents start with this language.",
    )


class CustomDomainForm(forms.Form):
    domain = forms.CharField(
        label="Custom domain",
        max_length=253,
        widget=forms.TextInput(
            attrs={"placeholder": "help.example.com", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
