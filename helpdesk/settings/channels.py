from typing import Any
from urllib.parse import urlsplit

from helpdesk.settings import env as E

# Redis pub/sub ignores the database number in REDIS_URL, so two installations (or test runs)
# sharing one Redis server would hear each other's broadcasts; the prefix carries the number.
_db = urlsplit(E.REDIS_URL).path.strip("/")
_prefix = "asgi" + (_db if _db.isdigit() else "0")

# The pub/sub layer holds one Redis connection per process instead of one per consumer; the
# default RedisChannelLayer ran out of connections at a few hundred sockets on a 2-core box.
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [E.REDIS_URL], "prefix": _prefix},
    }
}

# Consumers' database calls run on this many threads per process (helpdesk/realtime/db.py).
REALTIME_DB_THREADS = E.REALTIME_DB_THREADS
REALTIME_WRITE_LANES = E.REALTIME_WRITE_LANES
