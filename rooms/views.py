"""Pages: the room itself (the list and the create form are in this module too)."""

import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from rooms.models import Room
from rooms.selectors import room_messages
from rooms.strings import room_ui_strings


@login_required
def room_detail(request, room_id: str):
    """The room: its video grid, chat with history, and the owner's controls."""
    room = get_object_or_404(Room.objects.select_related("owner"), room_id=room_id)
    history = list(room_messages(room=room).order_by("-sent_at", "-pk")[:50])[::-1]
    return render(
        request,
        "rooms/room.html",
        {
            "room": room,
            "is_owner": room.owner_id == request.user.pk,
            "history": [
                {
                    "pk": m.pk,
                    "sender": m.sender,
                    "kind": m.kind,
                    "shown": m.text if m.kind == "text" else json.dumps(m.data),
                }
                for m in history
            ],
            "room_strings": room_ui_strings(),
        },
    )
