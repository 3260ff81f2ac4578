"""Presence: device rows, online state, and sweeping rows a dead process left."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Device
from accounts.selectors import users_online_state
from accounts.services import (
    device_connect,
    device_disconnect,
    device_keepalive,
    device_offline,
    device_online,
    presence_sweep,
)

pytestmark = pytest.mark.django_db


def test_a_user_with_a_device_is_online_until_it_disconnects(user):
    device_connect(user=user, device_id="d1", channel_name="c1")
    assert users_online_state(handles=["alice"]) == {"alice": "online"}
    device_disconnect(device_id="d1")
    assert users_online_state(handles=["alice"]) == {"alice": "offline"}


def test_only_the_first_device_brings_a_user_online_and_only_the_last_takes_them_off(
    user,
):
    """Everyone is told when the state changes, not for every tab."""
    assert device_online(user=user, device_id="d1", channel_name="c1") is True
    assert device_online(user=user, device_id="d2", channel_name="c2") is False
    assert device_offline(user=user, device_id="d1") is False
    assert device_offline(user=user, device_id="d2") is True


def test_a_stale_device_does_not_keep_a_user_online_for_the_next_one(user):
    device_connect(user=user, device_id="old", channel_name="c1")
    Device.objects.update(last_seen=timezone.now() - timedelta(minutes=5))
    assert device_online(user=user, device_id="d2", channel_name="c2") is True


def test_a_stale_device_counts_as_offline_before_any_sweep(user, settings):
    device_connect(user=user, device_id="d1", channel_name="c1")
    Device.objects.update(last_seen=timezone.now() - timedelta(seconds=91))
    assert users_online_state(handles=["alice"]) == {"alice": "offline"}


def test_the_sweep_removes_only_stale_devices(user, other_user):
    device_connect(user=user, device_id="old", channel_name="c1")
    device_connect(user=other_user, device_id="fresh", channel_name="c2")
    Device.objects.filter(device_id="old").update(
        last_seen=timezone.now() - timedelta(minutes=5)
    )
    assert presence_sweep() == [user]
    assert list(Device.objects.values_list("device_id", flat=True)) == ["fresh"]


def test_keepalive_refreshes_or_recreates_a_device_row(user):
    device_connect(user=user, device_id="d1", channel_name="c1")
    Device.objects.update(last_seen=timezone.now() - timedelta(minutes=5))
    assert device_keepalive(user=user, device_id="d1", channel_name="c1") is False
    assert Device.objects.get().last_seen > timezone.now() - timedelta(seconds=5)
    Device.objects.all().delete()
    assert device_keepalive(user=user, device_id="d1", channel_name="c1") is True
    assert Device.objects.get().user == user


@pytest.mark.django_db(transaction=True)  # it announces through the channel layer
def test_the_sweep_command_reports_what_it_did(user, capsys):
    device_connect(user=user, device_id="old", channel_name="c1")
    Device.objects.update(last_seen=timezone.now() - timedelta(minutes=5))
    call_command("sweep_presence")
    assert "1 user(s)" in capsys.readouterr().out
    assert not Device.objects.exists()
