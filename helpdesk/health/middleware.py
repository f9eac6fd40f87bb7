from django.http import HttpRequest


class HealthCheckMiddleware:
    """Answers /healthz first in the stack, before the tenant lookup, on every host.

    Known, unknown and suspended hosts get the same answer, and no session, CSRF or tenant
    middleware runs for it, so probes leave nothing behind.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path == "/healthz":
            from helpdesk.health.views import healthz

            return healthz(request)
        return self.get_response(request)
