from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils.cache import add_never_cache_headers

from helpdesk.health.checks import health_report


def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database, Redis and a worker all answer, 503 otherwise; never cached."""
    response: HttpResponse
    if request.method not in ("GET", "HEAD"):
        response = HttpResponseNotAllowed(["GET", "HEAD"])
    else:
        report = health_report()
        response = JsonResponse(report, status=200 if report["status"] == "ok" else 503)
    add_never_cache_headers(response)
    # Answered before SecurityMiddleware, which would otherwise add this.
    response["X-Content-Type-Options"] = "nosniff"
    return response
