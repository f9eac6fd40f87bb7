"""What the chat frames of an agent socket do (helpdesk/realtime/consumers.py).

One call per frame, run in the workspace's schema. The agent is re-read each time, so a
deactivated agent's open socket can't write.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from chat.selectors.conversations import conversation_access
from chat.services.conversations import conversation_read_by_agent
from chat.services.replies import conversation_reply
from tenants.agents.models import User


class AgentGone(Exception):
    """The agent was deactivated or deleted while the socket was open."""


def _agent(agent_id: int) -> User:
    agent = User.objects.filter(pk=agent_id, is_active=True).first()
    if agent is None:
        raise AgentGone
    return agent


def agent_socket_send(
    *,
    agent_id: int,
    conversation_id: Any,
    client_message_id: Any,
    body: Any,
    is_internal: Any,
    attachments: Any,
) -> dict[str, Any]:
    agent = _agent(agent_id)
    conversation = conversation_access(actor=agent, conversation_id=conversation_id)
    write = conversation_reply(
        conversation=conversation,
        actor=agent,
        body=body,
        client_message_id=client_message_id,
        is_internal=bool(is_internal),
        attachment_ids=attachments if attachments is not None else (),
    )
    return {
        "type": "ack",
        "conversation_id": conversation.pk,
        "client_message_id": write.message.client_message_id,
        "seq": write.message.seq,
        "message_id": write.message.pk,
        "created": write.created,
    }


def agent_socket_read(*, agent_id: int, conversation_id: Any, seq: Any) -> None:
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise ValidationError("seq must be a number.", code="invalid")
    agent = _agent(agent_id)
    conversation = conversation_access(actor=agent, conversation_id=conversation_id)
    conversation_read_by_agent(conversation=conversation, seq=seq)


def agent_socket_typing_target(*, agent_id: int, conversation_id: Any) -> dict[str, Any]:
    """The conversation id (checked) and how the typing agent is shown."""
    agent = _agent(agent_id)
    conversation = conversation_access(actor=agent, conversation_id=conversation_id)
    return {"conversation_id": conversation.pk, "agent": {"id": agent.pk, "name": agent.name}}
