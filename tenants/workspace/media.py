"""Serving a workspace's public pictures (avatars, logo) from its own host.

Files are stored per schema by TenantFileSystemStorage under MEDIA_ROOT/<schema>/ and their URLs
read /media/<schema>/<folder>/<file>. A host only ever serves its own schema's folder, so another
workspace's host answers 404 for the same URL. Only the picture folders are served here; other
uploads (attachments, later) need their own access-checked views.
"""

from __future__ import annotations

import posixpath

from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django.views.static import serve

PUBLIC_FOLDERS = ("avatars/", "logos/")


@require_GET
def tenant_media(request: HttpRequest, path: str) -> HttpResponse:
    schema = request.tenant.schema_name
    prefix = f"{schema}/"
    if not path.startswith(prefix):
        raise Http404
    relative = posixpath.normpath(path[len(prefix) :])
    if relative.startswith(("/", "..")) or not relative.startswith(PUBLIC_FOLDERS):
        raise Http404
    response = serve(request, relative, document_root=default_storage.location)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=3600"
    return response
