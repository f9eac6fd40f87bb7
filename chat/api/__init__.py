"""The chat part of the workspace API (/api/v1/conversations/...).

Registered in helpdesk/api/urls.py with the rest of the API.
"""
