from helpdesk.settings.base import *  # noqa: F403
