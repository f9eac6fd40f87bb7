from tests.helpdesk.realtime.conftest import workspaces, ws_thread_connections

__all__ = ["workspaces", "ws_thread_connections"]
