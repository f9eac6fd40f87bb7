import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

register = template.Library()
URL_RE = re.compile(r"(https?://[^\s<>\"']+)")


@register.filter
def linkify_text(text: str):
    """Escape a plain-text mail body, then make its http(s) links clickable."""
    parts = URL_RE.split(text or "")
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(format_html('<a href="{0}" rel="noreferrer">{0}</a>', part))
        else:
            out.append(escape(part))
    return mark_safe("".join(out))  # noqa: S308 - every piece above is escaped
