"""Forms for the team, invitation and profile pages. They parse and validate input only."""

from __future__ import annotations

import unicodedata
import zoneinfo
from functools import cache
from typing import Any, cast

from allauth.account.forms import AddEmailForm
from allauth.account.models import EmailAddress
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from tenants.agents.images import ACCEPT, image_upload_clean
from tenants.agents.models import User

NAME_MAX_LENGTH = User._meta.get_field("name").max_length


def plain_text_validate(value: str) -> None:
    """Names end up in headers, subjects and other people's screens: one plain line only."""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValidationError("Use letters, digits and punctuation only.", code="invalid")


@cache
def timezone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every IANA zone, grouped by region for the select's optgroups."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            groups.setdefault("Other", []).append((name, name))
            continue
        region, _, city = name.partition("/")
        groups.setdefault(region, []).append((name, city.replace("_", " ").replace("/", " / ")))
    other = groups.pop("Other", [])
    return [*sorted(groups.items()), ("Other", other)]


class TimezoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("choices", timezone_choices)
        super().__init__(**kwargs)

    def valid_value(self, value) -> bool:
        return value in zoneinfo.available_timezones()


class PictureField(forms.FileField):
    """A picture upload; cleans to a re-encoded ContentFile at most `max_side` pixels."""

    def __init__(self, *, max_side: int, **kwargs):
        self.max_side = max_side
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.FileInput(attrs={"accept": ACCEPT}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload or upload is initial:
            return None
        return image_upload_clean(upload, max_side=self.max_side)


def _name_field(**kwargs) -> forms.CharField:
    return forms.CharField(
        max_length=NAME_MAX_LENGTH,
        validators=[plain_text_validate],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        **kwargs,
    )


class InvitationCreateForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"placeholder": "name@company.com", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, roles: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        role = cast(forms.ChoiceField, self.fields["role"])
        role.choices = roles
        role.initial = User.Role.AGENT


class InvitationAcceptForm(forms.Form):
    name = _name_field(label="Your name")
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters. Avoid common words and your name.",
    )
    password2 = forms.CharField(
        label="Password (again)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("password1") and data.get("password2") != data.get("password1"):
            self.add_error("password2", "The two passwords don't match.")
        return data


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(choices=[(User.Role.ADMIN, "Admin"), (User.Role.AGENT, "Agent")])


class ProfileForm(forms.Form):
    name = _name_field(label="Name")
    avatar = PictureField(
        max_side=512, label="Photo", help_text="PNG, JPEG, GIF or WebP, up to 2 MB."
    )
    avatar_remove = forms.BooleanField(required=False, label="Remove photo")
    language = forms.ChoiceField(label="Language", choices=settings.LANGUAGES)
    timezone = TimezoneField(
        label="Timezone", help_text="Times across the app are shown in this timezone."
    )


STATUS_CHOICES = User.Status.choices


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES)


class AgentAddEmailForm(AddEmailForm):
    """allauth's change-email form, refusing addresses another member of the workspace uses.

    allauth lets anyone add a taken address (unverified) so that the form does not reveal who
    has an account. Inside a workspace every agent sees the team's addresses anyway, and a
    pending claim on a colleague's unverified address would let one click of theirs hand the
    address, and its sign-in, to someone else.
    """

    # allauth's email view passes the signed-in agent; super().clean_email() asserts it.
    user: User

    def clean_email(self) -> str:
        value = super().clean_email()
        others_user = User.objects.exclude(pk=self.user.pk).filter(email__iexact=value)
        others_address = EmailAddress.objects.exclude(user_id=self.user.pk).filter(
            email__iexact=value
        )
        if others_user.exists() or others_address.exists():
            raise ValidationError(
                "Another member of this workspace uses this address.", code="email_taken"
            )
        return value
