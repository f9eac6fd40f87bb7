"""Serving a workspace's public pictures (avatars, logo) from its own host.

Files are stored per schema by TenantFileSystemStorage under MEDIA_ROOT/<schema>/ and their URLs
read /media/<schema>/<folder>/<file>. A host only ever serves its own schema's folder, so another
workspace's host answers 404 for the same URL. Only the picture folders are served here; other
uploads (attachments, later) need their own access-checked views.
"""

from __future__ import annotations

import posixpath
from typing import cast

from django.core.files.storage import FileSystemStorage, default_storage
from django.http import Http404
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET
from django.views.static import serve

from tenants.http import TenantRequest

PUBLIC_FOLDERS = ("avatars/", "logos/")


@require_GET
def tenant_media(request: TenantRequest, path: str) -> HttpResponseBase:
    schema = request.tenant.schema_name
    prefix = f"{schema}/"
    if not path.startswith(prefix):
        raise Http404
    relative = posixpath.normpath(path[len(prefix) :])
    if relative.startswith(("/", "..")) or not relative.startswith(PUBLIC_FOLDERS):
        raise Http404
    # The default storage is TenantFileSystemStorage, whose location is this schema's folder.
    folder = cast(FileSystemStorage, default_storage).location
    response = serve(request, relative, document_root=str(folder))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=3600"
    return response
