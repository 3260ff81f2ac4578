"""Settings come from the environment; production mode passes Django's deploy check."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REAL_SECRET = "k3y-" + "9f8e7d6c5b4a" * 5


def run_django(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in _PARLEY_VARS}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


_PARLEY_VARS = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CALL_RING_TIMEOUT",
    "STUN_URLS",
    "TURN_URLS",
    "TURN_SECRET",
    "TURN_TTL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "CONN_MAX_AGE",
    "REDIS_LAYER",
    "DB_THREADS",
}

PRINT = (
    "from django.conf import settings as s; import json; print(json.dumps({"
    "'db': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    "'host': s.DATABASES['default'].get('HOST', ''),"
    "'layer': s.CHANNEL_LAYERS['default'], 'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS,"
    "'ring': s.CALL_RING_TIMEOUT, 'stun': s.STUN_URLS, 'turn': s.TURN_URLS,"
    "'turn_secret': s.TURN_SECRET, 'turn_ttl': s.TURN_TTL,"
    "'conn_max_age': s.DATABASES['default']['CONN_MAX_AGE'],"
    "'db_threads': s.DB_THREADS}))"
)


def settings_with(**env: str) -> dict:
    done = run_django(["shell", "--no-imports", "-c", PRINT], **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_with_nothing_set_it_uses_sqlite_and_the_in_memory_layer():
    s = settings_with()
    assert s["db"] == "django.db.backends.sqlite3"
    assert s["layer"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    # Not the default 100: a burst of presence news must not push call frames out.
    assert s["layer"]["CONFIG"]["capacity"] >= 10_000
    assert s["debug"] is True
    assert s["ring"] == 60


def test_database_url_selects_postgresql_over_a_unix_socket():
    s = settings_with(DATABASE_URL="postgres:///parley?host=/var/run/postgresql")
    assert s["db"] == "django.db.backends.postgresql"
    assert (s["name"], s["host"]) == ("parley", "/var/run/postgresql")


def test_redis_url_selects_parleys_pubsub_layer_over_tcp_or_unix_socket():
    for url in ("redis://127.0.0.1:6379/0", "unix:///tmp/redis.sock"):
        layer = settings_with(REDIS_URL=url)["layer"]
        assert layer["BACKEND"] == "config.redis_layer.LocalFirstChannelLayer"
        assert layer["CONFIG"]["solo_group_prefixes"] == ["device."]
        (host,) = layer["CONFIG"]["hosts"]
        assert host["address"] == url
        assert host["socket_timeout"] > 5
        # redis-py 8 caps a pool at 100 connections and then fails instead of waiting.
        assert host["max_connections"] >= 1000


def test_redis_layer_chooses_channels_redis_core_layer_or_refuses_an_unknown_one():
    layer = settings_with(REDIS_URL="unix:///tmp/redis.sock", REDIS_LAYER="core")
    assert layer["layer"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert layer["layer"]["CONFIG"]["capacity"] >= 10_000
    (host,) = layer["layer"]["CONFIG"]["hosts"]
    # Longer than channels-redis' 5 s blocking wait (redis-py 8 defaults to 5 s).
    assert host["socket_timeout"] > 5
    done = run_django(["check"], REDIS_URL="unix:///tmp/r.sock", REDIS_LAYER="fast")
    assert done.returncode != 0
    assert "REDIS_LAYER must be one of ['core', 'pubsub']" in done.stderr


def test_database_connections_are_kept_open_between_socket_events():
    s = settings_with()
    assert s["conn_max_age"] == 300
    assert settings_with(CONN_MAX_AGE="0")["conn_max_age"] == 0


def test_sockets_use_one_database_thread_on_sqlite_and_a_pool_on_postgresql():
    assert settings_with()["db_threads"] == 1
    postgres = "postgres:///parley?host=/var/run/postgresql"
    assert settings_with(DATABASE_URL=postgres)["db_threads"] == 4
    assert settings_with(DATABASE_URL=postgres, DB_THREADS="8")["db_threads"] == 8


def test_call_and_ice_settings_are_read():
    s = settings_with(
        CALL_RING_TIMEOUT="30",
        STUN_URLS="stun:a.example:3478,stun:b.example:3478",
        TURN_URLS="turn:t.example:3478?transport=udp",
        TURN_SECRET="s3",
        TURN_TTL="600",
        ALLOWED_HOSTS="call.example.com,.example.org",
    )
    assert s["ring"] == 30
    assert s["stun"] == ["stun:a.example:3478", "stun:b.example:3478"]
    assert s["turn"] == ["turn:t.example:3478?transport=udp"]
    assert (s["turn_secret"], s["turn_ttl"]) == ("s3", 600)
    assert s["hosts"] == ["call.example.com", ".example.org"]


def test_production_mode_passes_the_deploy_check_with_zero_warnings():
    done = run_django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        SECRET_KEY=REAL_SECRET,
        ALLOWED_HOSTS="call.example.com",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_production_mode_refuses_to_start_without_a_secret_key():
    done = run_django(["check"], DEBUG="0")
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


def test_ci_runs_on_postgresql_and_redis(db):
    """CI must exercise the real services, never the zero-install defaults."""
    from django.db import connection

    if not os.environ.get("CI"):
        return  # a developer's machine may use the defaults
    assert connection.vendor == "postgresql"
    assert os.environ.get("REDIS_URL"), "CI sets REDIS_URL"


def test_static_files_are_served_by_whitenoise_with_debug_off(db, settings):
    """No collectstatic and no separate web server: the app serves its own assets."""
    from django.test import Client

    settings.DEBUG = False
    answer = Client().get("/static/js/signaling.js")
    assert answer.status_code == 200
    assert b"SignalingClient" in b"".join(answer.streaming_content)
