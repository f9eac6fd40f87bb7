"""Outgoing account mail: rendered in the request, handed to a Celery task once the data is saved.

Nothing here talks to a mail server. A request only renders the message and queues it after its
transaction commits, so a slow or failing SMTP server never holds up a page, and a rolled-back
change never mails anyone.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage

from tenants.agents.tasks import email_send_task


def workspace_from_email(workspace_name: str | None) -> str:
    """DEFAULT_FROM_EMAIL, shown as "<Workspace> via Helpdesk" so agents know who is writing."""
    display, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if not workspace_name or not address:
        return settings.DEFAULT_FROM_EMAIL
    # Workspace names cannot hold line breaks (validated when set); formataddr quotes the rest.
    name = " ".join(workspace_name.split())
    return formataddr((f"{name} via {display or 'Helpdesk'}", address))


def one_line(text: str) -> str:
    """Subjects carry user-chosen names; a header must never be split by what they contain."""
    return " ".join(text.split())


def email_enqueue(*, message: EmailMessage) -> None:
    html_body = None
    body = message.body
    if getattr(message, "content_subtype", "plain") == "html":
        html_body, body = body, ""
    for content, mimetype in getattr(message, "alternatives", None) or []:
        if mimetype == "text/html":
            html_body = content
    email_send_task.delay_on_commit(
        subject=message.subject,
        body=body,
        from_email=message.from_email,
        to=list(message.to),
        html_body=html_body,
        headers=dict(message.extra_headers or {}),
    )


def request_origin(request) -> str:
    """Scheme and host for links mailed from this request.

    The host is the one the agent reached this workspace on (a custom domain stays a custom
    domain); the tenant middleware has already matched its name to this workspace.
    """
    return f"{settings.PUBLIC_SCHEME}://{request.get_host()}"
