from __future__ import annotations

from allauth.account.models import EmailAddress
from django import template

register = template.Library()


@register.inclusion_tag("agents/partials/account_tabs.html", takes_context=True)
def account_tabs(context) -> dict:
    """The account pages' tab bar (profile, email, password, two-factor, API tokens).

    The current tab is the entry whose URL is the longest prefix of the path, so sub-pages such
    as /accounts/2fa/totp/activate/ keep "Two-factor" selected.
    """
    request = context.get("request")
    path = request.path if request is not None else ""
    items = list(context.get("account_menu") or [])
    current = max(
        (item["url"] for item in items if path.startswith(item["url"])), key=len, default=None
    )
    return {"tabs": [{**item, "current": item["url"] == current} for item in items]}


@register.simple_tag(takes_context=True)
def unverified_email(context) -> str:
    """The signed-in agent's unverified address, if any (two-factor needs none left)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    address = EmailAddress.objects.filter(user_id=user.pk, verified=False).first()
    return address.email if address else ""
