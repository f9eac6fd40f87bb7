"""Conversations and messages on every channel.

So far: the data model and the message-writing service with per-conversation sequence numbers
and idempotent sends (issue #3, item 1). The widget, consumers and inbox come with the rest of
that issue.
"""
