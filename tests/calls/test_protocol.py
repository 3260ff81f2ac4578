"""calls.protocol: parsing client frames and encoding server frames."""

import json

import pytest

from calls import protocol
from calls.protocol import ProtocolError, parse_client_frame


def test_a_valid_frame_parses_into_its_model():
    frame = parse_client_frame('{"type": "auth", "user_sig": "t", "req": "1"}')
    assert isinstance(frame, protocol.Auth)
    assert (frame.user_sig, frame.req) == ("t", "1")


def test_unknown_extra_fields_are_ignored():
    """Newer clients may send fields this server does not know yet."""
    assert parse_client_frame('{"type": "ping", "future": 1}') == protocol.Ping()


def test_the_size_limit_counts_bytes_not_characters():
    """A frame of multi-byte characters is measured as UTF-8 on the wire."""
    text = json.dumps({"type": "ping", "pad": "字" * 30000}, ensure_ascii=False)
    assert len(text) < protocol.MAX_FRAME_BYTES < len(text.encode())
    with pytest.raises(ProtocolError) as caught:
        parse_client_frame(text)
    assert caught.value.slug == "frame_too_large"


def test_an_overlong_req_is_invalid():
    with pytest.raises(ProtocolError) as caught:
        parse_client_frame(json.dumps({"type": "ping", "req": "r" * 200}))
    assert (caught.value.slug, caught.value.field) == ("invalid_field", "req")


def test_an_empty_user_sig_is_invalid():
    with pytest.raises(ProtocolError) as caught:
        parse_client_frame('{"type": "auth", "user_sig": "", "req": "x"}')
    assert (caught.value.slug, caught.value.req) == ("invalid_field", "x")


def test_error_slugs_and_codes_are_unique():
    assert len(set(protocol.ERRORS.values())) == len(protocol.ERRORS)


def test_an_unknown_slug_is_a_programming_error():
    with pytest.raises(ValueError):
        ProtocolError("no_such_slug", "x")


def test_error_frames_carry_req_code_slug_and_message():
    error = ProtocolError("unknown_type", "Unknown frame type 'x'.", req="7")
    assert json.loads(protocol.encode(protocol.error_frame(error))) == {
        "type": "error",
        "req": "7",
        "code": 4002,
        "error": "unknown_type",
        "message": "Unknown frame type 'x'.",
    }


def test_ok_frames_carry_their_result_beside_req():
    frame = protocol.ok_frame("9", call_id="c1")
    assert json.loads(protocol.encode(frame)) == {
        "type": "ok",
        "req": "9",
        "call_id": "c1",
    }


def test_peek_req_reads_req_without_validating():
    assert protocol.peek_req('{"type": "nope", "req": "5"}') == "5"
    assert protocol.peek_req("not json") is None
    assert protocol.peek_req('{"req": 5}') is None
    assert protocol.peek_req(b"\x00") is None
    assert protocol.peek_req('{"req": "%s"}' % ("r" * 129)) is None
