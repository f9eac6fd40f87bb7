"""Typing indicators: nothing is stored, so they are sent at once rather than after a commit."""

from __future__ import annotations

from typing import Any

from channels.layers import get_channel_layer

from helpdesk.realtime.groups import agents_group, conversation_group


async def typing_from_visitor(*, schema_name: str, conversation_id: int, is_typing: bool) -> None:
    await get_channel_layer().group_send(
        agents_group(schema_name),
        {
            "type": "chat.typing",
            "conversation_id": conversation_id,
            "who": "visitor",
            "is_typing": bool(is_typing),
        },
    )


async def typing_from_agent(
    *, schema_name: str, conversation_id: int, agent: dict[str, Any], is_typing: bool
) -> None:
    """Other agents see who is typing; the visitor only sees the agent's name."""
    event = {
        "type": "chat.typing",
        "conversation_id": conversation_id,
        "is_typing": bool(is_typing),
    }
    layer = get_channel_layer()
    await layer.group_send(agents_group(schema_name), {**event, "who": agent})
    await layer.group_send(
        conversation_group(schema_name, conversation_id),
        {**event, "who": {"name": agent["name"]}},
    )
