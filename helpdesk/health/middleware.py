from django.http import HttpRequest


class HealthCheckMiddleware:
    """Answers /healthz before tenant lookup, so it works on every host, known or not."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path == "/healthz":
            from helpdesk.health.views import healthz

            return healthz(request)
        return self.get_response(request)
