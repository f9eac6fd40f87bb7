from django.urls import path

from tenants.agents import token_views

urlpatterns = [
    path("profile/api-tokens/", token_views.api_tokens, name="api_tokens"),
    path(
        "profile/api-tokens/<int:token_id>/revoke/",
        token_views.api_token_revoke_view,
        name="api_token_revoke",
    ),
]
