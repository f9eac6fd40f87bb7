"""The acknowledgement auto-reply's text: built-in wording per language, the placeholders a
merchant's own template may use, and rendering them.

Templates are the merchant's text, so they are never given to str.format (which would let
"{0.__class__}" reach into Python objects): the three known placeholders are replaced in one
pass and anything else in braces is left as typed. Saving refuses unknown placeholders, so a
typo is caught then instead of reaching customers.
"""

from __future__ import annotations

import re
import unicodedata

PLACEHOLDERS = ("ticket_number", "subject", "customer_name")
SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 5000
# A template may repeat {subject}; the header stays a sane length whatever it says.
RENDERED_SUBJECT_MAX_LENGTH = 400
# What a customer-given value may add to our mail: enough to recognise, never a wall of text.
_VALUE_MAX_LENGTH = {"subject": 150, "customer_name": 80}

_PLACEHOLDER_RE = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_BRACED_RE = re.compile(r"\{([^{}]*)\}")

DEFAULT_LANGUAGE = "en"
# Short and polite; the subject keeps the customer's so mail clients thread the reply with it.
BUILT_IN: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Re: {subject} [#{ticket_number}]",
        "body": "Hello,\n\nThank you for writing to us. We received your message — ticket "
        "#{ticket_number} — and will get back to you as soon as we can.\n\n"
        "If you have anything to add, just reply to this email.",
    },
    "zh-hans": {
        "subject": "Re: {subject} [#{ticket_number}]",
        "body": "您好：\n\n感谢您的来信。我们已收到您的消息（工单 #{ticket_number}），"
        "会尽快回复您。\n\n如需补充信息，直接回复此邮件即可。",
    },
    "es": {
        "subject": "Re: {subject} [#{ticket_number}]",
        "body": "Hola:\n\nGracias por escribirnos. Hemos recibido tu mensaje (ticket "
        "#{ticket_number}) y te responderemos lo antes posible.\n\n"
        "Si quieres añadir algo, responde a este correo.",
    },
    "de": {
        "subject": "Re: {subject} [#{ticket_number}]",
        "body": "Hallo,\n\nvielen Dank für Ihre Nachricht. Wir haben sie erhalten (Ticket "
        "#{ticket_number}) und melden uns so schnell wie möglich.\n\n"
        "Wenn Sie etwas ergänzen möchten, antworten Sie einfach auf diese E-Mail.",
    },
    "fr": {
        "subject": "Re: {subject} [#{ticket_number}]",
        "body": "Bonjour,\n\nMerci de nous avoir écrit. Nous avons bien reçu votre message "
        "(ticket #{ticket_number}) et nous vous répondrons dès que possible.\n\n"
        "Pour ajouter quelque chose, répondez simplement à cet e-mail.",
    },
    "ja": {
        "subject": "Re: {subject} [#{ticket_number}]",
        "body": "お問い合わせいただきありがとうございます。\n\n"
        "メッセージを受け付けました（チケット番号 #{ticket_number}）。"
        "できるだけ早くご返信いたします。\n\n"
        "追加のご連絡は、このメールにそのままご返信ください。",
    },
    "pt": {
        "subject": "Re: {subject} [#{ticket_number}]",
        "body": "Olá,\n\nObrigado por nos escrever. Recebemos a sua mensagem (ticket "
        "#{ticket_number}) e responderemos o mais breve possível.\n\n"
        "Se quiser acrescentar algo, basta responder a este e-mail.",
    },
    "ar": {
        "subject": "Re: {subject} [#{ticket_number}]",
        "body": "مرحبًا،\n\nشكرًا لتواصلك معنا. لقد استلمنا رسالتك (التذكرة #{ticket_number}) "
        "وسنرد عليك في أقرب وقت ممكن.\n\nإذا أردت إضافة أي شيء، فقط قم بالرد على هذه الرسالة.",
    },
}


def language_match(language: str, available: set[str] | dict) -> str | None:
    """The code in `available` for a customer's language tag: "de-AT" → "de", "zh-CN" →
    "zh-hans"; None when nothing fits."""
    tag = (language or "").strip().lower().replace("_", "-")
    if not tag:
        return None
    if tag in available:
        return tag
    base = tag.split("-", 1)[0]
    if base in available:
        return base
    matches = sorted(code for code in available if code.split("-", 1)[0] == base)
    return matches[0] if matches else None


def unknown_placeholders(text: str) -> list[str]:
    """Braced names that are not placeholders, as typed: ["{0}", "{__class__}"]."""
    return ["{" + name + "}" for name in _BRACED_RE.findall(text) if name not in PLACEHOLDERS]


def _one_line(value: str) -> str:
    """No control characters or line breaks: the value may end up in a mail header."""
    cleaned = "".join(" " if unicodedata.category(c)[0] in ("C", "Z") else c for c in value)
    return " ".join(cleaned.split())


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def ack_render_text(template: str, values: dict[str, str]) -> str:
    """Each known placeholder replaced once; values are never searched for placeholders again."""
    return _PLACEHOLDER_RE.sub(lambda match: values[match.group(1)], template)


def ack_values(*, ticket_number: int | str, subject: str, customer_name: str) -> dict[str, str]:
    return {
        "ticket_number": _one_line(str(ticket_number)),
        "subject": _shorten(_one_line(subject), _VALUE_MAX_LENGTH["subject"]),
        "customer_name": _shorten(_one_line(customer_name), _VALUE_MAX_LENGTH["customer_name"]),
    }


def ack_subject_finish(subject: str) -> str:
    """The rendered subject as a header value: one line, not empty."""
    line = _one_line(subject)
    return _shorten(line, RENDERED_SUBJECT_MAX_LENGTH) if line else "Re:"
