"""Debian's coturn and nginx, started by tests on 127.0.0.1 inside the namespace.

Each runs from a generated configuration in a temporary directory, never from /etc,
and is stopped at the end of the test. `make test` installs both packages.
"""

import os
import secrets
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def require_binary(name: str, package: str, *fallbacks: str) -> str:
    """The path of a Debian binary, or a failure that says what to install."""
    for candidate in (shutil.which(name), *fallbacks):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise AssertionError(
        f"{name} is missing: install Debian's {package} "
        f"(apt-get install {package}; `make test` does it when run as root)"
    )


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# --- coturn ------------------------------------------------------------------------

STUN_MAGIC = 0x2112A442


def stun_answers(port: int, timeout: float = 0.2) -> bool:
    """Whether a STUN binding request to 127.0.0.1:port gets a success response."""
    transaction = secrets.token_bytes(12)
    request = struct.pack("!HHI", 0x0001, 0, STUN_MAGIC) + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(request, ("127.0.0.1", port))
            answer = s.recv(2048)
        except OSError:
            return False
    return answer[:2] == b"\x01\x01" and answer[8:20] == transaction


@dataclass
class Coturn:
    url: str  # the TURN_URLS entry
    secret: str  # its static-auth-secret (TURN_SECRET)
    log: Path


def start_coturn(workdir: Path) -> tuple[Coturn, subprocess.Popen]:
    """coturn with the REST-API scheme (`use-auth-secret`) on 127.0.0.1, UDP only."""
    binary = require_binary("turnserver", "coturn", "/usr/bin/turnserver")
    port = free_port(socket.SOCK_DGRAM)
    secret = secrets.token_hex(16)
    log = workdir / "turnserver.log"
    args = [
        binary,
        "-n",  # no configuration file: everything is on this line
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        f"--listening-port={port}",
        "--use-auth-secret",
        f"--static-auth-secret={secret}",
        "--realm=parley.test",
        "--fingerprint",
        # Both browsers live on 127.0.0.1, which coturn refuses as a peer by default.
        "--allow-loopback-peers",
        "--no-cli",
        "--no-tls",
        "--no-dtls",
        f"--userdb={workdir / 'turndb'}",
        f"--pidfile={workdir / 'turnserver.pid'}",
        f"--log-file={log}",
        "--simple-log",
        "--no-stdout-log",
    ]
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while not stun_answers(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            text = log.read_text() if log.exists() else "(no log)"
            raise AssertionError(f"coturn did not start:\n{text[-3000:]}")
        time.sleep(0.1)
    return Coturn(
        url=f"turn:127.0.0.1:{port}?transport=udp", secret=secret, log=log
    ), proc


# --- nginx -------------------------------------------------------------------------

NGINX_CONF = """\
# Generated for one test: nginx in front of daphne processes (see docs/deploy.md).
daemon off;
master_process off;
user root;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream parley {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://parley;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


def start_nginx(
    workdir: Path, *, primary: list[str], backup: list[str] = ()
) -> tuple[str, subprocess.Popen]:
    """nginx on a free port of 127.0.0.1, proxying HTTP and WebSockets to the
    `primary` upstreams (host:port), and to the `backup` ones once those fail."""
    binary = require_binary("nginx", "nginx-light", "/usr/sbin/nginx")
    port = free_port()
    servers = [f"        server {a} max_fails=1 fail_timeout=30s;" for a in primary]
    servers += [f"        server {a} backup;" for a in backup]
    conf = workdir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(workdir=workdir, port=port, servers="\n".join(servers))
    )
    proc = subprocess.Popen(
        [binary, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(conf)]
    )
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return f"http://127.0.0.1:{port}", proc
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            log = workdir / "error.log"
            raise AssertionError(
                "nginx did not start:\n" + (log.read_text() if log.exists() else "")
            )
        time.sleep(0.05)
