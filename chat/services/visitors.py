"""The widget's visitor: who they are, their pre-chat answers, starting their conversation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.identity import ShopperIdentity, identity_verify
from chat.models import Conversation, WidgetSettings
from chat.selectors.conversations import visitor_conversation_current
from chat.selectors.widget import widget_settings_get
from chat.services.conversations import (
    conversation_broadcast_changed,
    conversation_new,
    conversation_open,
)
from chat.visitor_tokens import visitor_token_contact, visitor_token_for
from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services.opening import ticket_new

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
NAME_MAX = 200
FIELD_VALUE_MAX = 500
URL_MAX = 2000


def _text(value: Any, *, limit: int, label: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text.", code="invalid")
    value = _CONTROL_RE.sub(" ", value).strip()
    if len(value) > limit:
        raise ValidationError(f"{label} is too long (at most {limit} characters).", code="invalid")
    return value


def _clip(value: Any, limit: int) -> str:
    """Browser-reported context: kept if it is text, cut to size, never an error."""
    if not isinstance(value, str):
        return ""
    return _CONTROL_RE.sub(" ", value)[:limit]


@dataclass(frozen=True)
class PageContext:
    url: str = ""
    title: str = ""
    referrer: str = ""
    user_agent: str = ""
    timezone: str = ""
    language: str = ""

    @classmethod
    def parse(cls, *, page: Any, timezone_name: Any, language: Any, user_agent: str) -> PageContext:
        page = page if isinstance(page, dict) else {}
        return cls(
            url=_clip(page.get("url"), URL_MAX),
            title=_clip(page.get("title"), 300),
            referrer=_clip(page.get("referrer"), URL_MAX),
            user_agent=_clip(user_agent, 500),
            timezone=_clip(timezone_name, 64),
            language=_clip(language, 16),
        )


@dataclass
class VisitorSession:
    contact: Contact | None
    conversation: Conversation | None
    token: str | None
    # Why a presented identity was not accepted ("" when none was refused).
    identity_error: str = ""


def _contact_seen(contact: Contact, context: PageContext, *, save: bool = True) -> None:
    contact.last_seen_at = timezone.now()
    contact.last_page_url = context.url
    contact.last_page_title = context.title
    contact.last_referrer = context.referrer
    contact.last_user_agent = context.user_agent
    fields = [
        "last_seen_at",
        "last_page_url",
        "last_page_title",
        "last_referrer",
        "last_user_agent",
    ]
    if context.timezone and not contact.timezone:
        contact.timezone = context.timezone
        fields.append("timezone")
    if context.language and not contact.language:
        contact.language = context.language
        fields.append("language")
        country = _country_from_language(context.language)
        if country and not contact.country:
            contact.country = country
            fields.append("country")
    if save:
        contact.save(update_fields=fields)


def _country_from_language(language: str) -> str:
    # "de-AT" → "AT". Without a GeoIP database the browser's region is the best hint we have.
    parts = re.split(r"[-_]", language)
    if len(parts) >= 2 and re.fullmatch(r"[A-Za-z]{2}", parts[-1]):
        return parts[-1].upper()
    return ""


def _verified_contact(identity: ShopperIdentity) -> Contact:
    contact = Contact.objects.filter(
        identity_verified=True, external_id=identity.external_id
    ).first()
    if contact is None and identity.email:
        # The shopper wrote by email before signing in to the store: same person, one contact.
        contact = (
            Contact.objects.filter(
                email__iexact=identity.email, email_verified=True, identity_verified=False
            )
            .order_by("pk")
            .first()
        )
        if contact is not None:
            contact.identity_verified = True
            contact.external_id = identity.external_id
            contact.save(update_fields=["identity_verified", "external_id"])
    if contact is None:
        try:
            with transaction.atomic():
                contact = Contact.objects.create(
                    identity_verified=True,
                    external_id=identity.external_id,
                    name=identity.name,
                    email=identity.email,
                    email_verified=bool(identity.email),
                )
        except IntegrityError:
            # Two tabs verified the same new shopper at once; the other one created it.
            contact = Contact.objects.get(identity_verified=True, external_id=identity.external_id)
        return contact
    fields = []
    if identity.name and contact.name != identity.name:
        contact.name = identity.name
        fields.append("name")
    if identity.email and (contact.email != identity.email or not contact.email_verified):
        contact.email = identity.email
        contact.email_verified = True
        fields += ["email", "email_verified"]
    if fields:
        contact.save(update_fields=fields)
    return contact


def visitor_authenticate(
    *, token: Any, identity: Any, context: PageContext, settings: WidgetSettings | None = None
) -> VisitorSession:
    """Who is behind a widget socket.

    - A valid token → its contact. Anything else → an anonymous visitor with no contact yet (one
      is created with their first message, so browsing shoppers don't fill the contact list).
    - A valid, fresh identity signature → the verified contact for that store customer id,
      created if new: the shopper sees their history on any device. An anonymous visitor's
      conversations on this browser move to them (it was them, now signed in).
    - An identity that fails verification is ignored (the visitor stays who the token says, or
      anonymous) and the reason is returned to tell the merchant's developer.
    """
    settings = settings or widget_settings_get()
    contact = visitor_token_contact(token)
    identity_error = ""
    if identity is not None:
        try:
            verified = identity_verify(
                identity=identity, secret=settings.identity_secret, now=timezone.now()
            )
        except ValidationError as exc:
            identity_error = exc.messages[0]
        else:
            with transaction.atomic():
                shopper = _verified_contact(verified)
                if contact is not None and not contact.identity_verified and contact != shopper:
                    contact.conversations.update(contact=shopper)
                    contact.tickets.update(requester=shopper)
                contact = shopper
    if contact is None:
        return VisitorSession(
            contact=None, conversation=None, token=None, identity_error=identity_error
        )
    _contact_seen(contact, context)
    return VisitorSession(
        contact=contact,
        conversation=visitor_conversation_current(contact=contact),
        token=visitor_token_for(contact),
        identity_error=identity_error,
    )


def _prechat_clean(prechat: Any, *, settings: WidgetSettings, require: bool) -> dict[str, Any]:
    if prechat is None:
        prechat = {}
    if not isinstance(prechat, dict):
        raise ValidationError("The form must be an object.", code="invalid")
    name = _text(prechat.get("name"), limit=NAME_MAX, label="Name")
    email = _text(prechat.get("email"), limit=254, label="Email").lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError("Enter a valid email address.", code="invalid_email") from None
    if require and settings.ask_email == WidgetSettings.EmailField.REQUIRED and not email:
        raise ValidationError("Please leave your email address.", code="email_required")
    answers: dict[str, str] = {}
    given = prechat.get("fields") or {}
    if not isinstance(given, dict):
        raise ValidationError("Form fields must be an object.", code="invalid")
    for spec in settings.custom_fields or []:
        key, label = spec.get("key"), spec.get("label") or spec.get("key")
        if not isinstance(key, str):
            continue
        value = _text(given.get(key), limit=FIELD_VALUE_MAX, label=str(label))
        if require and spec.get("required") and not value:
            raise ValidationError(f"Please fill in “{label}”.", code="field_required")
        if value:
            answers[key] = value
    return {"name": name, "email": email, "fields": answers}


@dataclass(frozen=True)
class ConversationStart:
    contact: Contact
    conversation: Conversation
    token: str
    created: bool


def _contact_new(answers: dict[str, Any], context: PageContext) -> Contact:
    """A new visitor's contact, unsaved, with the page they wrote from."""
    contact = Contact(
        name=answers["name"],
        email=answers["email"],
        timezone=context.timezone,
        language=context.language,
        country=_country_from_language(context.language),
    )
    _contact_seen(contact, context, save=False)
    if answers["fields"]:
        contact.custom_attributes = {**contact.custom_attributes, **answers["fields"]}
    return contact


def _started_context(answers: dict[str, Any], context: PageContext) -> dict[str, Any]:
    return {
        "fields": answers["fields"],
        "page_url": context.url,
        "page_title": context.title,
        "referrer": context.referrer,
        "user_agent": context.user_agent,
        "timezone": context.timezone,
        "language": context.language,
    }


@dataclass(frozen=True)
class NewConversation:
    """The unsaved rows of a new visitor's first conversation (ids and ticket number unset)."""

    contact: Contact
    ticket: Ticket
    conversation: Conversation


def visitor_conversations_new(
    contexts: list[PageContext], *, settings: WidgetSettings | None = None
) -> list[NewConversation]:
    """For new visitors writing their first message (no pre-chat answers), the rows
    `visitor_conversation_start` would create, unsaved, one per page context: the batched
    chat path (chat/services/visitor_message_batch.py) stores them many at once. Raises
    ValidationError as `visitor_conversation_start` does when the widget takes no new chats
    this way (switched off, or a pre-chat question must be answered first). `settings`: the
    workspace's widget settings, if the caller has read them already."""
    settings = settings or widget_settings_get()
    if not settings.enabled:
        raise ValidationError("Chat is switched off.", code="widget_disabled")
    answers = _prechat_clean(None, settings=settings, require=True)
    rows = []
    for context in contexts:
        contact = _contact_new(answers, context)
        ticket = ticket_new(requester=contact, channel=Conversation.Channel.WEB)
        conversation = conversation_new(
            contact=contact,
            ticket=ticket,
            channel=Conversation.Channel.WEB,
            started_context=_started_context(answers, context),
        )
        rows.append(NewConversation(contact, ticket, conversation))
    return rows


def visitor_conversation_start(
    *, contact: Contact | None, prechat: Any, context: PageContext, announce: bool = True
) -> ConversationStart:
    """The visitor's conversation, created (with the contact, if new) on first use.

    Pre-chat answers fill in an unverified visitor's name and email; a verified shopper's come
    from the store and are not overwritten from the widget. `announce=False` leaves telling the
    agents to the caller's next broadcast (the first message's, which carries both the
    conversation and its ticket).
    """
    settings = widget_settings_get()
    if not settings.enabled:
        raise ValidationError("Chat is switched off.", code="widget_disabled")
    with transaction.atomic():
        existing = visitor_conversation_current(contact=contact) if contact else None
        answers = _prechat_clean(prechat, settings=settings, require=existing is None)
        if contact is None:
            contact = _contact_new(answers, context)
            contact.save(force_insert=True)  # one INSERT with the page fields and answers
        else:
            fields = []
            if not contact.identity_verified and answers["name"]:
                contact.name = answers["name"]
                fields.append("name")
            if not contact.identity_verified and answers["email"]:
                contact.email = answers["email"]
                fields.append("email")
            if answers["fields"]:
                contact.custom_attributes = {**contact.custom_attributes, **answers["fields"]}
                fields.append("custom_attributes")
            if fields:
                contact.save(update_fields=fields)
        created = existing is None
        conversation = existing or conversation_open(
            contact=contact,
            announce=announce,
            channel=Conversation.Channel.WEB,
            started_context=_started_context(answers, context),
        )
    return ConversationStart(
        contact=contact,
        conversation=conversation,
        token=visitor_token_for(contact),
        created=created,
    )


def visitor_email_leave(*, contact: Contact, email: Any) -> Contact:
    """An offline visitor leaves an address so the answer can follow by email."""
    value = _text(email, limit=254, label="Email").lower()
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError("Enter a valid email address.", code="invalid_email") from None
    if contact.identity_verified:
        # The store vouches for a verified shopper's address; the widget can't replace it.
        return contact
    contact.email = value
    contact.save(update_fields=["email"])
    conversation = visitor_conversation_current(contact=contact)
    if conversation is not None:
        conversation = Conversation.objects.select_related("contact", "assignee").get(
            pk=conversation.pk
        )
        conversation_broadcast_changed(conversation, tell_visitor=False)
    return contact
