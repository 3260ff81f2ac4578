"""Channel-layer settings, shared by the settings module and the tests."""

# channels-redis waits for messages with a blocking BZPOPMIN of 5 s. redis-py 8 gives
# every socket a 5 s read timeout by default, which races that wait and tears sockets
# down every few seconds (channels_redis#422). Reads may take longer than the wait.
REDIS_SOCKET_TIMEOUT = 15

# Redis connections a process may open at once. redis-py 8 caps its pools at 100 and
# then raises MaxConnectionsError instead of waiting: a burst of relays (every one
# holds a connection while it runs) failed with `internal` errors under `make bench`.
# Connections are opened only as bursts need them.
REDIS_MAX_CONNECTIONS = 2000

# Events a channel may hold before new ones are dropped (or, in a socket's own
# buffer, the oldest). The core layer keeps one Redis list for all of a process's
# sockets and checks its default capacity of 100 against that list, so a process with
# a thousand sockets and a burst of news would drop call frames. Events are small;
# 10 000 is a few MB at most.
CHANNEL_CAPACITY = 10_000


def redis_layer(url: str, **config) -> dict:
    """CHANNEL_LAYERS["default"] for channels-redis at `url` (redis:// or unix://)."""
    host = {
        "address": url,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "max_connections": REDIS_MAX_CONNECTIONS,
    }
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [host], "capacity": CHANNEL_CAPACITY, **config},
    }


# Groups with one member at most, anywhere: a socket's own group (calls.delivery's
# device_group). config.redis_layer publishes nothing for them when the member is in
# the sending process.
DEVICE_GROUP_PREFIX = "device."


def redis_pubsub_layer(url: str, **config) -> dict:
    """CHANNEL_LAYERS["default"] for Parley's Pub/Sub layer at `url`
    (config.redis_layer): channels-redis' Pub/Sub layer, handing events for the
    process's own sockets over in memory and pipelining what it publishes.

    The core layer (`redis_layer`) receives a process's events one at a time, two
    Redis round trips and a lock hand-over each: with 1 000 sockets in a process it
    relayed under 200 frames/s and lost frames (`make bench`, docs/performance.md).
    Both drop events nobody is listening for; neither replays them. The default
    (REDIS_LAYER=pubsub).
    """
    host = {
        "address": url,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "max_connections": REDIS_MAX_CONNECTIONS,
    }
    return {
        "BACKEND": "config.redis_layer.LocalFirstChannelLayer",
        "CONFIG": {
            "hosts": [host],
            "solo_group_prefixes": [DEVICE_GROUP_PREFIX],
            **config,
        },
    }


REDIS_LAYERS = {"pubsub": redis_pubsub_layer, "core": redis_layer}


def channel_layer_for(url: str, *, kind: str = "pubsub", **config) -> dict:
    """The Redis layer of `kind` ("pubsub", the default, or channels-redis' "core")."""
    if kind not in REDIS_LAYERS:
        raise ValueError(f"REDIS_LAYER must be one of {sorted(REDIS_LAYERS)}: {kind!r}")
    return REDIS_LAYERS[kind](url, **config)


def memory_layer() -> dict:
    """CHANNEL_LAYERS["default"] for one process (`make run`, tests)."""
    return {
        "BACKEND": "channels.layers.InMemoryChannelLayer",
        "CONFIG": {"capacity": CHANNEL_CAPACITY},
    }
