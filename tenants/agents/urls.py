from django.urls import path

from tenants.agents.views import dashboard, invitations, profile, team

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("team/", team.team_list, name="team_list"),
    path("team/invite/", team.team_invite, name="team_invite"),
    path(
        "team/invitations/<int:invitation_id>/resend/",
        team.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "team/invitations/<int:invitation_id>/revoke/",
        team.invitation_revoke,
        name="invitation_revoke",
    ),
    path("team/members/<int:member_id>/role/", team.member_role_change, name="member_role_change"),
    path(
        "team/members/<int:member_id>/deactivate/",
        team.member_deactivate,
        name="member_deactivate",
    ),
    path(
        "team/members/<int:member_id>/reactivate/",
        team.member_reactivate,
        name="member_reactivate",
    ),
    path("invite/<str:token>/", invitations.invitation_accept, name="invitation_accept"),
    path("profile/", profile.profile, name="profile"),
    path("profile/status/", profile.agent_status_set, name="agent_status_set"),
]
