"""The agent app's sidebar and account menu, in one place.

An entry appears only when its URL exists and the agent's role may use it, so the shell never
shows a section that does not work. Later features add their entries here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str
    url_name: str
    icon: str = "home"
    admin_only: bool = False
    # For agents who aren't admins only: admins reach the same page through another entry.
    agent_only: bool = False
    # URL names of the section's other pages, which keep this entry shown as current.
    section: tuple[str, ...] = ()


# The pages under Settings that are listed as its tabs.
SETTINGS_SECTION = ("chat_widget_", "canned_response_", "email_settings")

SIDEBAR = [
    NavEntry("inbox", "Inbox", "inbox", icon="inbox"),
    NavEntry("team", "Team", "team_list", icon="team"),
    NavEntry(
        "settings",
        "Settings",
        "workspace_settings",
        icon="settings",
        admin_only=True,
        section=SETTINGS_SECTION,
    ),
    # Agents may read the canned responses (admins manage them under Settings).
    NavEntry("canned", "Canned responses", "canned_response_list", icon="mail", agent_only=True),
]

# The tab bar on the Settings pages; an agent sees the tabs their role may open.
SETTINGS_TABS = [
    NavEntry("general", "General", "workspace_settings", admin_only=True),
    NavEntry("chat_widget", "Chat widget", "chat_widget_settings", admin_only=True),
    NavEntry("email", "Email", "email_settings", admin_only=True),
    NavEntry("canned", "Canned responses", "canned_response_list"),
]

ACCOUNT_MENU = [
    NavEntry("profile", "Profile", "profile"),
    NavEntry("email", "Email addresses", "account_email"),
    NavEntry("password", "Password", "account_change_password"),
    NavEntry("mfa", "Two-factor authentication", "mfa_index"),
    NavEntry("api_tokens", "API tokens", "api_tokens"),
]


def _visible(entries: list[NavEntry], user, current_url_name: str | None) -> list[dict]:
    items = []
    for entry in entries:
        is_admin = getattr(user, "is_admin", False)
        if (entry.admin_only and not is_admin) or (entry.agent_only and is_admin):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append(
            {
                "key": entry.key,
                "label": entry.label,
                "url": url,
                "icon": entry.icon,
                "current": current_url_name is not None
                and current_url_name.startswith((entry.url_name.split("_")[0], *entry.section)),
            }
        )
    return items


def app_navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else None
    return {
        "app_nav": _visible(SIDEBAR, user, current),
        "account_menu": _visible(ACCOUNT_MENU, user, None),
        "settings_tabs": _visible(SETTINGS_TABS, user, current),
    }
