"""Channel-layer settings, shared by the settings module and the tests."""

# channels-redis waits for messages with a blocking BZPOPMIN of 5 s. redis-py 8 gives
# every socket a 5 s read timeout by default, which races that wait and tears sockets
# down every few seconds (channels_redis#422). Reads may take longer than the wait.
REDIS_SOCKET_TIMEOUT = 15


def redis_layer(url: str, **config) -> dict:
    """CHANNEL_LAYERS["default"] for channels-redis at `url` (redis:// or unix://)."""
    host = {"address": url, "socket_timeout": REDIS_SOCKET_TIMEOUT}
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [host], **config},
    }
