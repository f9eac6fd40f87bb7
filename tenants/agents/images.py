"""Uploaded pictures (avatars, workspace logos): checked with Pillow and re-encoded.

The stored file is always one we wrote ourselves, under a random name with an extension that
matches its real format. Whatever else the upload carried (a script appended after the image
data, an HTML page posing as a PNG, EXIF location data) does not survive re-encoding.
"""

from __future__ import annotations

import io
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django_tenants.utils import schema_context
from PIL import Image, ImageOps, UnidentifiedImageError

from tenants.connection import connection

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# Decoded size cap: a 2 MB PNG can still unpack to gigabytes of pixels.
MAX_PIXELS = 25_000_000
ACCEPT = "image/png,image/jpeg,image/gif,image/webp"
# Pillow format -> (format we store, extension)
_OUTPUT = {
    "PNG": ("PNG", "png"),
    "JPEG": ("JPEG", "jpg"),
    "GIF": ("PNG", "png"),
    "WEBP": ("WEBP", "webp"),
}
_FORMAT_ERROR = "Upload a PNG, JPEG, GIF or WebP image."


class CleanImage(ContentFile):
    """A picture image_upload_clean has re-encoded and renamed. Services that store pictures
    take only this type, so an upload can't reach storage as it was sent."""

    name: str


def image_upload_clean(upload: UploadedFile, *, max_side: int) -> CleanImage:
    """Validate an uploaded picture and return it re-encoded, at most max_side pixels wide/high."""
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError("The image must be 2 MB or smaller.", code="too_large")
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError("The image must be 2 MB or smaller.", code="too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            output = _OUTPUT.get(probe.format or "")
            if output is None:
                raise ValidationError(_FORMAT_ERROR, code="format")
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError("The image has too many pixels.", code="too_large")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            picture = ImageOps.exif_transpose(image)
            picture.thumbnail((max_side, max_side))
            out_format, extension = output
            if out_format == "JPEG" and picture.mode not in ("RGB", "L"):
                picture = picture.convert("RGB")
            elif picture.mode not in ("RGB", "RGBA", "L", "LA"):
                picture = picture.convert("RGBA")
            buffer = io.BytesIO()
            picture.save(buffer, format=out_format)
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise ValidationError(_FORMAT_ERROR, code="format") from exc
    return CleanImage(buffer.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")


def stored_image_delete_on_commit(*, storage, name: str) -> None:
    """Remove a replaced picture once the new one is saved for good."""
    # Media paths follow the connection's schema at the time of the call; pin it to this one.
    schema = connection.schema_name

    def delete() -> None:
        with schema_context(schema):
            storage.delete(name)

    transaction.on_commit(delete)
