from allauth.account.adapter import DefaultAccountAdapter


class AgentAccountAdapter(DefaultAccountAdapter):
    """Agents join a workspace by invitation only; there is no open signup inside a tenant."""

    def is_open_for_signup(self, request) -> bool:
        return False
