"""OpenAPI additions: the token security scheme and the error format on every operation."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_SHAPE_MARKDOWN = """## Errors
Every error under `/api/` is JSON of one shape, whatever the status:

```json
{"error": {"code": "not_found", "message": "Not found.", "details": {}}}
```

- `code` is stable; branch on it. `message` is for people and may change.
- `details` is an object, empty when there is nothing to add. A validation error (`400`,
  code `invalid`) lists the problems per field: `{"name": [{"message": "...", "code": "blank"}]}`;
  problems not tied to one field are under `non_field_errors`. A throttled request (`429`,
  code `throttled`) gives `retry_after` in seconds, also sent as the `Retry-After` header.

| Status | Codes |
| --- | --- |
| 400 | `invalid`, `parse_error` |
| 401 | `not_authenticated`, `authentication_failed`, `invalid_token`, `invalid_header` |
| 403 | `permission_denied`, `not_agent`, `admin_role_required`, `owner_role_required` |
| 404 | `not_found` (also for objects of another workspace: they are indistinguishable) |
| 405 | `method_not_allowed` |
| 415 | `unsupported_media_type` |
| 429 | `throttled` |
| 500 | `server_error` |
| 503 | `workspace_suspended` |
"""


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "helpdesk.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "hd_<prefix>_<secret>",
            "description": "A personal API token from Profile → API tokens.",
        }


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "example": "not_found"},
                "message": {"type": "string", "example": "Not found."},
                "details": {"type": "object", "additionalProperties": True},
            },
        }
    },
}

_ERROR_RESPONSES = {
    "400": "The request was not valid; `details` lists the problems per field.",
    "401": "No credentials, or a token that is invalid or revoked.",
    "403": "Signed in, but this agent's role may not do this.",
    "404": "Not found (a missing object and another workspace's look the same).",
    "429": "Too many requests; retry after `details.retry_after` seconds.",
}
_WRITE_METHODS = {"post", "put", "patch"}


def _error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    if not operation.get("security") or {} in operation["security"]:
        return []  # public endpoints (the schema itself) fail only in ordinary ways
    statuses = ["401", "403", "429"]
    if "{" in path:
        statuses.append("404")
    if method in _WRITE_METHODS:
        statuses.append("400")
    return statuses


def error_responses_postprocess(result: dict[str, Any], generator, **kwargs) -> dict[str, Any]:
    """Documents the error shape once and refers every operation's error statuses to it."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    responses = components.setdefault("responses", {})
    for status_code, description in _ERROR_RESPONSES.items():
        responses[f"Error{status_code}"] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status_code in _error_statuses(path, method, operation):
                operation["responses"].setdefault(
                    status_code, {"$ref": f"#/components/responses/Error{status_code}"}
                )
    info = result.setdefault("info", {})
    info["description"] = (info.get("description") or "").rstrip() + "\n\n" + ERROR_SHAPE_MARKDOWN
    return result
