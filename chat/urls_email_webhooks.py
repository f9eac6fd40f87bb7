"""Inbound mail from email providers, on the public host (mail is routed by its recipient
address, not by the host it was posted to). Mounted at /webhooks/email/."""

from django.urls import path, re_path

from chat.views import email_webhooks

urlpatterns = [
    # Mailgun posts the raw MIME ("body-mime") when the URL contains "mime", parsed fields
    # otherwise; both are accepted, inbound_mime/ is the one to configure.
    re_path(
        r"^mailgun/inbound(_mime)?/$",
        email_webhooks.mailgun_inbound,
        name="email_webhook_mailgun_inbound",
    ),
    path(
        "postmark/inbound/",
        email_webhooks.postmark_inbound,
        name="email_webhook_postmark_inbound",
    ),
    path(
        "sendgrid/inbound/",
        email_webhooks.sendgrid_inbound,
        name="email_webhook_sendgrid_inbound",
    ),
    path(
        "amazon_ses/inbound/",
        email_webhooks.amazon_ses_inbound,
        name="email_webhook_amazon_ses_inbound",
    ),
]
