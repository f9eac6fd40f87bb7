"""Email providers' inbound webhooks: django-anymail's views, refused until configured.

Anymail parses each provider's payload, checks basic auth and signatures, and sends its
`inbound` signal, which chat/email/webhooks.py turns into email_receive. An answer other than
2xx makes the provider retry, so a failure while storing loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.utils import DEFAULT_DOWNLOAD_CHUNK_SIZE
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.base import AnymailBaseWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt

from chat.email.sns import SnsVerificationError, sns_message_verify, sns_subscription_confirm

log = logging.getLogger(__name__)


class SesInboundWebhookView(AmazonSESInboundWebhookView):
    """Amazon SES inbound mail through an SNS topic (receipt rule action "SNS", mails up to
    150 KB), with the SNS signature verified. anymail's own view builds boto3 clients for the S3
    action and for confirming subscriptions; this one needs neither."""

    def __init__(self, **kwargs: Any) -> None:
        self.auto_confirm_enabled = True
        self.session_params: dict[str, Any] = {}
        self.client_params: dict[str, Any] = {}
        self.kms_key_id = None
        self.chunk_size = DEFAULT_DOWNLOAD_CHUNK_SIZE
        # Skips AmazonSES*WebhookView.__init__ (boto3), keeps basic-auth set-up.
        AnymailBaseWebhookView.__init__(self, **kwargs)

    def validate_request(self, request: HttpRequest) -> None:
        # anymail runs every validate_request of the class chain: basic auth, SNS headers, then
        # this one.
        message = self._parse_sns_message(request)
        topics = settings.AMAZON_SES_INBOUND_TOPIC_ARNS
        if topics and message.get("TopicArn") not in topics:
            raise AnymailWebhookValidationFailure("SNS topic is not an allowed inbound topic.")
        try:
            sns_message_verify(message)
        except SnsVerificationError as err:
            raise AnymailWebhookValidationFailure(str(err)) from err

    def auto_confirm_sns_subscription(self, sns_message: dict[str, Any]) -> None:
        sns_subscription_confirm(sns_message)
        log.info("Confirmed SNS subscription to %s", sns_message.get("TopicArn"))

    def fetch_s3_chunks(self, bucket_name: str, object_key: str) -> Any:
        raise AnymailConfigurationError(
            "Amazon SES inbound mail is supported with the receipt rule's SNS action only "
            "(the S3 action needs boto3, which is not installed)."
        )


def _has_basic_auth() -> bool:
    return bool(settings.ANYMAIL.get("WEBHOOK_SECRET"))


def _has_mailgun_key() -> bool:
    return bool(settings.ANYMAIL.get("MAILGUN_WEBHOOK_SIGNING_KEY"))


def _refused_until_configured(
    view_class: type[AnymailBaseWebhookView], configured: Callable[[], bool], needs: str
) -> Callable[..., HttpResponseBase]:
    """anymail accepts posts to a webhook without a secret (with a warning) and fails with a
    500 on a missing Mailgun key; here both are a plain 403, nothing parsed or stored."""
    view = view_class.as_view()

    @csrf_exempt
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not configured():
            log.warning("%s inbound webhook refused: %s is not set", view_class.esp_name, needs)
            return HttpResponseForbidden(f"This webhook is not configured ({needs}).")
        return view(request, *args, **kwargs)

    return guarded


mailgun_inbound = _refused_until_configured(
    MailgunInboundWebhookView, _has_mailgun_key, "MAILGUN_WEBHOOK_SIGNING_KEY"
)
postmark_inbound = _refused_until_configured(
    PostmarkInboundWebhookView, _has_basic_auth, "ANYMAIL_WEBHOOK_SECRET"
)
sendgrid_inbound = _refused_until_configured(
    SendGridInboundWebhookView, _has_basic_auth, "ANYMAIL_WEBHOOK_SECRET"
)
amazon_ses_inbound = _refused_until_configured(
    SesInboundWebhookView, _has_basic_auth, "ANYMAIL_WEBHOOK_SECRET"
)
