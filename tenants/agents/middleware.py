import zoneinfo

from django.utils import timezone


class AgentTimezoneMiddleware:
    """Show a signed-in agent every time in their own timezone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        tz = getattr(user, "timezone", None) if user is not None and user.is_authenticated else None
        try:
            if tz:
                timezone.activate(zoneinfo.ZoneInfo(tz))
            else:
                timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)
