"""The workspace URLs plus views that exist only to prove how the API base fails."""

from django.urls import include, path

from helpdesk.api.base import TenantApiView


class BoomApi(TenantApiView):
    def get(self, request):
        raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [
    path("api/v1/boom/", BoomApi.as_view()),
    path("", include("helpdesk.urls_tenant")),
]
