"""Django REST framework and drf-spectacular: the workspace API under /api/."""

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header is what turns "no credentials" into a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "helpdesk.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every API view should inherit helpdesk.api.base.TenantApiView, which always applies this
    # check itself; the default only protects a view that forgot to.
    "DEFAULT_PERMISSION_CLASSES": ["helpdesk.api.permissions.IsActiveAgent"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "helpdesk.api.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "helpdesk.api.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["helpdesk.api.throttling.AgentRateThrottle"],
    # Counted per agent in the tenant-prefixed cache, so workspaces never share a budget.
    "DEFAULT_THROTTLE_RATES": {"agent": "1200/minute"},
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": (
        "The workspace API. Every URL is on the workspace's own host "
        "(`https://<workspace>.<domain>/api/v1/...`); credentials of one workspace never work "
        "on another.\n\n"
        "## Authentication\n"
        "Create a personal API token under *Profile → API tokens* (or with the "
        "`create_api_token` management command) and send it as "
        "`Authorization: Bearer <token>`. A signed-in browser session works too; unsafe "
        "methods then need the `X-CSRFToken` header.\n\n"
        # helpdesk.api.schema appends the error format, documented next to the code that makes it.
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from the drf-spectacular-sidecar package, never from a CDN, so the
    # docs work on a machine without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False},
    # Several choice sets share the field name "status"; named here so the schema has stable,
    # readable enum names (and no collision warning).
    "ENUM_NAME_OVERRIDES": {
        "AgentStatusEnum": "tenants.agents.models.User.Status",
        "ConversationStatusEnum": "chat.models.Conversation.Status",
        "InboxStatusEnum": "chat.selectors.conversations.INBOX_STATUSES",
        "ChannelEnum": "chat.models.Conversation.Channel",
        "TicketStatusEnum": "helpdesk.tickets.models.Ticket.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "helpdesk.api.schema.error_responses_postprocess",
    ],
}
