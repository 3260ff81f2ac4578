"""The heartbeat of a process (calls.heartbeat): one UPDATE a beat keeps all of its
sockets' device rows fresh; a row a sweep took from a living socket is written again,
never one of a socket that closed."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services as accounts
from accounts.models import Device
from accounts.services import device_connect, devices_refresh
from calls import heartbeat

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_update_refreshes_every_device_and_says_which_rows_are_gone(
    user, django_assert_num_queries
):
    long_ago = timezone.now() - timedelta(minutes=5)
    for device_id in ("d1", "d2"):
        device_connect(user=user, device_id=device_id, channel_name=f"c-{device_id}")
    Device.objects.update(last_seen=long_ago)
    with django_assert_num_queries(1):
        assert devices_refresh(device_ids=["d1", "d2"]) == set()
    assert not Device.objects.filter(last_seen__lte=long_ago).exists()
    # A row gone costs one more query, to tell which.
    with django_assert_num_queries(2):
        assert devices_refresh(device_ids=["d1", "d2", "swept"]) == {"swept"}
    assert devices_refresh(device_ids=[]) == set()


class FakeSocket:
    def __init__(self, device_id: str, *, stored: bool = True, broken: bool = False):
        self.device_id = device_id
        self.device_stored = stored
        self.broken = broken
        self.revived = False

    async def revive(self) -> None:
        if self.broken:
            raise RuntimeError("database gone")
        self.revived = True


async def test_a_beat_revives_living_sockets_whose_rows_were_swept_only(
    monkeypatch, user
):
    """d1 has its row; d2's was swept and it lives; d3's was swept and it closed while
    the beat waited for the database; d4 has not written its row yet; d5's revival
    fails, which keeps neither d2's nor the sweep from happening."""
    await asyncio.to_thread(
        device_connect, user=user, device_id="d1", channel_name="c1"
    )
    sockets = {
        name: FakeSocket(name, stored=name != "d4", broken=name == "d5")
        for name in ("d1", "d2", "d3", "d4", "d5")
    }
    live = set(sockets.values())
    refreshed = []

    def refresh_while_d3_closes(*, device_ids):
        refreshed.extend(device_ids)
        live.discard(sockets["d3"])
        return devices_refresh(device_ids=device_ids)

    swept = []

    async def sweep():
        swept.append(True)

    monkeypatch.setattr(accounts, "devices_refresh", refresh_while_d3_closes)
    monkeypatch.setattr(heartbeat, "sweep", sweep)
    await heartbeat.beat(live)
    assert sorted(refreshed) == ["d1", "d2", "d3", "d5"]
    assert {name for name, s in sockets.items() if s.revived} == {"d2"}
    assert swept == [True]


@pytest.mark.usefixtures("channel_layer")
async def test_the_process_beat_keeps_every_signed_in_sockets_row_fresh(
    signed_in, settings, user, other_user
):
    settings.PRESENCE_HEARTBEAT = 0.1
    await signed_in(user)
    await signed_in(other_user)
    long_ago = timezone.now() - timedelta(minutes=5)
    assert await Device.objects.aupdate(last_seen=long_ago) == 2
    deadline = asyncio.get_running_loop().time() + 3
    while await Device.objects.filter(last_seen__lte=long_ago).aexists():
        assert asyncio.get_running_loop().time() < deadline, "rows never refreshed"
        await asyncio.sleep(0.05)
