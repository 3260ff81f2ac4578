"""The heartbeat's sweeps run once per PRESENCE_HEARTBEAT per process, not per socket."""

from calls import consumers


def test_the_first_socket_to_beat_does_the_sweeps_for_the_process(
    settings, monkeypatch
):
    """The others only refresh their own row until a heartbeat has passed."""
    settings.PRESENCE_HEARTBEAT = 30
    monkeypatch.setattr(consumers, "_chores_done_at", float("-inf"))
    assert consumers.process_chores_due(now=1000.0) is True
    assert consumers.process_chores_due(now=1000.1) is False
    assert consumers.process_chores_due(now=1029.9) is False
    assert consumers.process_chores_due(now=1030.0) is True
