"""Forms of the public site: merchant signup and "find your workspace"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import (
    password_validators_help_text_html,
    validate_password,
)
from django.core.exceptions import ValidationError

from tenants.agents.forms import TimezoneField
from tenants.selectors import tenant_find_by_address
from tenants.services.signup import slug_check_available


class SignupForm(forms.Form):
    company_name = forms.CharField(
        label="Company name",
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "organization", "autofocus": True}),
    )
    slug = forms.CharField(
        label="Workspace address",
        max_length=40,
        help_text="Lowercase letters, digits and hyphens. Your team signs in here.",
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "none",
                "autocomplete": "off",
                "spellcheck": "false",
                "inputmode": "url",
            }
        ),
    )
    owner_name = forms.CharField(
        label="Your name", max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label="Work email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=128,
        help_text=password_validators_help_text_html(),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    timezone = TimezoneField(label="Time zone", initial="UTC")
    language = forms.ChoiceField(label="Language", choices=settings.LANGUAGES, initial="en")
    # Left empty by people; filled by bots that complete every input they find.
    website = forms.CharField(required=False, label="Leave this field empty")

    def clean_company_name(self) -> str:
        name = self.cleaned_data["company_name"].strip()
        if not name:
            raise ValidationError("Enter your company name.", code="required")
        return name

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip().lower()
        slug_check_available(slug=slug)
        return slug

    def clean_owner_name(self) -> str:
        name = self.cleaned_data["owner_name"].strip()
        if not name:
            raise ValidationError("Enter your name.", code="required")
        return name

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        password = data.get("password")
        if password:
            from tenants.agents.models import User

            # An unsaved user: the similarity check compares against what was typed above.
            probe = User(email=data.get("email", ""), name=data.get("owner_name", ""))
            try:
                validate_password(password, user=probe)
            except ValidationError as error:
                self.add_error("password", error)
        return data


class FindWorkspaceForm(forms.Form):
    address = forms.CharField(
        label="Workspace address",
        max_length=253,
        widget=forms.TextInput(
            attrs={
                "placeholder": "your-company",
                "autocapitalize": "none",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )

    def clean_address(self) -> str:
        address = self.cleaned_data["address"]
        tenant = tenant_find_by_address(address=address)
        primary = tenant.get_primary_domain() if tenant else None
        if primary is None:
            raise ValidationError(
                "We couldn't find a workspace at that address. Check the spelling, or create one.",
                code="not_found",
            )
        self.domain = primary.domain
        return address
