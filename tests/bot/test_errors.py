"""Bad input to the call bot: a clear message and a non-zero exit, never a traceback,
and no reconnection loop when the server refuses the token."""

import pytest
from django.core.management import CommandError, call_command

from accounts.usersig import usersig_issue
from tests.browser.harness import start_daphne
from tests.browser.services import stop


def callbot_error(*args: str) -> str:
    with pytest.raises(CommandError) as error:
        call_command("callbot", *args)
    return str(error.value)


def test_an_unknown_user_gets_no_token(db):
    message = callbot_error("zed", "--answer")
    assert message == "No active user named 'zed'."


@pytest.mark.parametrize(
    ("server", "says"),
    [
        ("ftp://127.0.0.1", "is not a server URL"),
        ("127.0.0.1:8000", "is not a server URL"),
        ("http://", "is not a server URL"),
        ("http://127.0.0.1:99999", "has a bad port"),
    ],
)
def test_a_bad_server_url(user, server, says):
    assert says in callbot_error("alice", "--answer", "--server", server)


def test_a_server_that_is_not_there(user):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused.
    message = callbot_error("alice", "--answer", "--server", "http://127.0.0.1:9")
    assert message.startswith("cannot reach ws://127.0.0.1:9/ws/")


@pytest.mark.parametrize(
    ("media", "says"),
    [
        ("tv", "unknown media 'tv'; use pattern, echo or file:PATH"),
        ("file:/no/such/clip.mp4", "no media file at /no/such/clip.mp4"),
    ],
)
def test_bad_media(user, media, says):
    assert callbot_error("alice", "--answer", "--media", media) == says


def test_a_file_that_is_not_media(user, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    message = callbot_error("alice", "--answer", "--media", f"file:{notes}")
    assert message.startswith(f"{notes} is not a media file PyAV can read")


def test_options_that_do_not_go_together(user):
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("callbot", "alice", "--answer", "--call", "bob")
    assert callbot_error("alice", "--call", "bob", "--from", "carol") == (
        "--from goes with --answer."
    )
    with pytest.raises(CommandError, match="one of the arguments"):
        call_command("callbot", "alice")


# --- refused by the server ---------------------------------------------------------


@pytest.fixture
def server(loopback_only, transactional_db):
    url, proc = start_daphne()
    yield url
    stop(proc)


def run_to_end(callbot, *args, server) -> tuple[int, str]:
    bot = callbot(*args, server=server)
    code = bot.finish(timeout=20)
    assert "Traceback" not in bot.output
    return code, bot.output


@pytest.mark.browser
def test_a_bad_token_stops_the_bot_at_once(server, people, callbot):
    code, output = run_to_end(
        callbot, "alice", "--answer", "--token", "not-a-token", server=server
    )
    assert code == 1
    assert "CommandError: the server refused the bot's token (4401)" in output
    assert "reconnecting" not in output


@pytest.mark.browser
def test_a_token_for_someone_else(server, people, callbot):
    token = usersig_issue(user=people["bob"])
    code, output = run_to_end(
        callbot, "alice", "--answer", "--token", token, server=server
    )
    assert code == 1
    assert "CommandError: the token is for 'bob', not 'alice'" in output


@pytest.mark.browser
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--call", "zed"], "cannot call 'zed': No user named 'zed'."),
        (["--call", "bob"], "the call ended without an answer: offline"),
        (["--room", "nowhere"], "cannot join room 'nowhere': No room 'nowhere'."),
    ],
)
def test_what_the_server_refuses(server, people, callbot, args, says):
    code, output = run_to_end(callbot, "alice", *args, server=server)
    assert code == 1
    assert f"CommandError: {says}" in output
