"""One error format for everything under /api/.

    {"error": {"code": "not_found", "message": "Not found.", "details": {}}}

`code` is stable and meant for programs; `message` is for people and may change; `details`
carries what a client needs to act: the field errors of a validation failure, the wait of a
throttled request. Views raise DRF or Django exceptions as usual; this module shapes them.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

log = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = "Not found."
SERVER_ERROR_MESSAGE = "Something went wrong on our side. The error has been logged."
VALIDATION_MESSAGE = "Some of the values sent are not valid."


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    # Missing and not-yours must be indistinguishable, whatever the model or the lookup said.
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        return exceptions.NotFound(NOT_FOUND_MESSAGE)
    if isinstance(exc, DjangoPermissionDenied):
        # Services phrase their refusals for people ("The owner cannot be deactivated.").
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    return None


def _validation_details(detail: Any) -> dict[str, Any]:
    """Field -> [{"message", "code"}]; errors not tied to a field go under "non_field_errors"."""
    if isinstance(detail, dict):
        return detail
    return {"non_field_errors": detail if isinstance(detail, list) else [detail]}


def _body_for(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        details = _validation_details(exc.get_full_details())
        general = details.get("non_field_errors")
        message = VALIDATION_MESSAGE
        if list(details) == ["non_field_errors"] and general:
            message = str(general[0].get("message", VALIDATION_MESSAGE))
        return error_body("invalid", message, details)
    detail = exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    # DRF names the generic failure "error"; ours is "server_error" everywhere.
    if code == "error":
        code = "server_error"
    details = {}
    wait: float | None = None
    if isinstance(exc, exceptions.Throttled):
        # DRF sets `wait` in Throttled.__init__; djangorestframework-stubs doesn't declare it.
        wait = exc.wait  # type: ignore[attr-defined]
    if wait is not None:
        details["retry_after"] = int(wait + 0.999)
    if isinstance(detail, (list, dict)):
        details["errors"] = exc.get_full_details()
        message = str(exc.default_detail)
    else:
        message = str(detail)
    return error_body(str(code), message, details)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER. Never returns None, so no HTML error page leaks out of a view."""
    api_exc = _as_api_exception(exc)
    set_rollback()
    if api_exc is None:
        request = context.get("request")
        log.error(
            "Unhandled error in API view %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exc_info=exc,
        )
        return Response(
            error_body("server_error", SERVER_ERROR_MESSAGE),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    headers = {}
    auth_header = getattr(api_exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(api_exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(int(wait + 0.999))
    return Response(_body_for(api_exc), status=api_exc.status_code, headers=headers)


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown URLs under /api/ answer in the API's format, not with the site's HTML page."""
    details: dict[str, Any] = {"path": request.path}
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public:
        details["hint"] = "The API is served on your workspace's own address: <workspace>.<domain>."
    elif not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/", getattr(request, "urlconf", None))
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            details["hint"] = f"Did you mean {request.path}/ ? API URLs end with a slash."
    return JsonResponse(
        error_body("not_found", "No API endpoint at this address.", details), status=404
    )


class WorkspaceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "This workspace is unavailable."
    default_code = "workspace_suspended"
