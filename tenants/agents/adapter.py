from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site

from tenants.agents.mail import email_enqueue, one_line, workspace_from_email


def _workspace_name(request) -> str | None:
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public:
        return None
    return tenant.name


class AgentAccountAdapter(DefaultAccountAdapter):
    """Agents join a workspace by invitation only; there is no open signup inside a tenant.

    Mail is rendered here, inside the request (so links carry the workspace's host and port as
    the agent reached it, which the tenant middleware has already matched to this workspace),
    and sent by a Celery task after the transaction commits.
    """

    def is_open_for_signup(self, request) -> bool:
        return False

    def format_email_subject(self, subject: str) -> str:
        name = _workspace_name(allauth_context.request)
        return one_line(f"[{name}] {subject}" if name else subject)

    def get_from_email(self) -> str:
        return workspace_from_email(_workspace_name(allauth_context.request))

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        email_enqueue(message=self.render_mail(template_prefix, email, ctx))
