from helpdesk.settings import env as E

# The pub/sub layer holds one Redis connection per process instead of one per consumer; the
# default RedisChannelLayer ran out of connections at a few hundred sockets on a 2-core box.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [E.REDIS_URL]},
    }
}
