"""Request budgets for API callers."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class AgentRateThrottle(SimpleRateThrottle):
    """A per-agent budget. Cache keys are prefixed with the schema, so ids never collide."""

    scope = "agent"

    def get_rate(self) -> str | None:
        # Read on every request (DRF's default reads it once at import), so a settings change,
        # a test's included, takes effect.
        # The stubs type the rates as numbers; they are "<count>/<period>" strings.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[return-value]

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}
