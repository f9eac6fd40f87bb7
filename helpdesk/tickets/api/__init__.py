"""API for tickets: /api/v1/tickets/ (the inbox list, one ticket, agent edits, merge, tags) and
/api/v1/tickets/{id}/messages/ (every conversation's messages in one timeline)."""
