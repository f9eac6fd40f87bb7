"""Live chat limits (see .env.example)."""

from helpdesk.settings import env as E


def _rate(value: str, name: str) -> tuple[int, int]:
    try:
        count, seconds = (int(part) for part in value.split("/"))
    except ValueError:
        raise ValueError(f"{name} must look like 20/10 (count/seconds), not {value!r}") from None
    if count < 1 or seconds < 1:
        raise ValueError(f"{name} needs a positive count and period")
    return count, seconds


WIDGET_RATE_CONNECTIONS_PER_IP = _rate(
    E.WIDGET_RATE_CONNECTIONS_PER_IP, "WIDGET_RATE_CONNECTIONS_PER_IP"
)
WIDGET_RATE_MESSAGES_PER_VISITOR = _rate(
    E.WIDGET_RATE_MESSAGES_PER_VISITOR, "WIDGET_RATE_MESSAGES_PER_VISITOR"
)
WIDGET_RATE_MESSAGES_PER_IP = _rate(E.WIDGET_RATE_MESSAGES_PER_IP, "WIDGET_RATE_MESSAGES_PER_IP")
CHAT_ATTACHMENT_MAX_BYTES = E.CHAT_ATTACHMENT_MAX_MB * 1024 * 1024
BENCH_RELAY_ENABLED = E.BENCH_RELAY_ENABLED
