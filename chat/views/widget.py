"""What a store page loads to show the chat: the loader script and the chat frame.

`/widget.js` runs on the merchant's store: it draws the launcher and an iframe pointing at
`/widget/frame/` on the workspace host, so nothing on the store can reach the chat. The frame is
a static page plus an ES module that speaks the visitor socket protocol (docs/chat-protocol.md).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from chat.allowed_domains import store_host_allowed, url_host
from chat.selectors.widget import widget_settings_get
from chat.widget_config import widget_frame_config, widget_loader_config
from chat.widget_embedding import frame_ancestors
from chat.widget_i18n import widget_language_choose, widget_strings, widget_text_direction
from tenants.http import TenantRequest

# Store pages fetch the loader on every view; a few minutes of caching spares the server while
# a settings change (colour, switched off) still reaches shoppers soon.
LOADER_MAX_AGE_SECONDS = 300


def _json_for_script(value: Any) -> str:
    # The loader embeds this as a JavaScript literal. Escaping <, > and & (as json_script does)
    # keeps a merchant-typed value from ever closing a tag if the file is shown as HTML.
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


def _own_hosts(request: TenantRequest) -> list[str]:
    return list(request.tenant.domains.values_list("domain", flat=True))


def _language(request: TenantRequest, override: str) -> str:
    return widget_language_choose(
        override=override, accept_language=request.headers.get("Accept-Language", "")
    )


@require_GET
def widget_loader(request: TenantRequest) -> HttpResponse:
    row = widget_settings_get()
    if not row.enabled:
        body = render_to_string("chat/widget/loader_disabled.js")
    else:
        language = _language(request, row.language)
        config = widget_loader_config(
            row=row,
            workspace_name=request.tenant.name,
            strings=widget_strings(language),
            direction=widget_text_direction(language),
            origin=request.build_absolute_uri("/").rstrip("/"),
            frame_path=reverse("chat_widget_frame"),
        )
        body = render_to_string("chat/widget/loader.js", {"config_json": _json_for_script(config)})
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    patch_cache_control(response, public=True, max_age=LOADER_MAX_AGE_SECONDS)
    # The launcher's labels follow the shopper's language.
    patch_vary_headers(response, ["Accept-Language"])
    return response


def _static_origin() -> str | None:
    """The origin static files come from when STATIC_URL points at another host (a CDN)."""
    parts = urlsplit(settings.STATIC_URL)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def _frame_csp(request: TenantRequest, *, ancestors: str) -> str:
    socket_scheme = "wss" if request.is_secure() else "ws"
    static = _static_origin()
    own = "'self'" + (f" {static}" if static else "")
    directives = [
        "default-src 'none'",
        f"script-src {own}",
        f"style-src {own}",
        f"img-src {own} blob: data:",
        f"font-src {own}",
        # 'self' covers ws(s) of the same host in CSP3 browsers only; older ones need it named.
        f"connect-src 'self' {socket_scheme}://{request.get_host()}",
        "base-uri 'none'",
        "form-action 'none'",
        f"frame-ancestors {ancestors}",
    ]
    return "; ".join(directives)


@require_GET
@xframe_options_exempt  # frame-ancestors below says who may embed it, per workspace
def widget_frame(request: TenantRequest) -> HttpResponse:
    row = widget_settings_get()
    own_hosts = _own_hosts(request)
    ancestors = frame_ancestors(allowed_domains=row.allowed_domains, own_hosts=own_hosts)
    language = _language(request, row.language)
    strings = widget_strings(language)
    context: dict[str, Any] = {
        "lang": language,
        "dir": widget_text_direction(language),
        "strings": strings,
        "workspace_name": request.tenant.name,
    }
    referer = request.headers.get("Referer", "")
    status = 200
    if not row.enabled:
        template, status = "chat/widget/unavailable.html", 404
        context["message"] = strings["unavailable"]
    elif referer and not store_host_allowed(
        host=url_host(referer), allowed=row.allowed_domains, own_hosts=own_hosts
    ):
        # Browsers already refuse to show the frame there (frame-ancestors); this also stops
        # clients that ignore CSP, and tells a developer testing the snippet what is wrong.
        template, status = "chat/widget/unavailable.html", 403
        context["message"] = strings["site_not_allowed"]
        context["refused"] = True
        context["store_host"] = url_host(referer)
    else:
        template = "chat/widget/frame.html"
        context["config"] = widget_frame_config(
            row=row,
            request=request,
            language=language,
            strings=strings,
        )
    response = HttpResponse(render_to_string(template, context), status=status)
    response["Content-Security-Policy"] = _frame_csp(request, ancestors=ancestors)
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Accept-Language"])
    return response
