"""/api/ on the public site: the API lives on workspace hosts, but the answer is still JSON."""

from django.urls import re_path

from helpdesk.api.errors import api_not_found

urlpatterns = [re_path(r"^.*$", api_not_found)]
