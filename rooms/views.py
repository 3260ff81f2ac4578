"""Pages: the list of rooms with a create form, and the room itself."""

import json

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from accounts.selectors import user_list_with_state
from rooms import services
from rooms.models import ROOM_ID_PATTERN, Room
from rooms.selectors import room_messages, rooms_of, rooms_open
from rooms.strings import room_ui_strings


class RoomForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    room_id = forms.CharField(
        label=_("Room id"),
        max_length=64,
        required=False,
        validators=[
            RegexValidator(
                ROOM_ID_PATTERN, _("A room id is letters, digits, _ and - only.")
            )
        ],
        help_text=_("Optional: letters, digits, _ and -. One is made up otherwise."),
    )
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput,
        max_length=128,
        help_text=_("Optional: whoever enters must give it."),
    )
    member_cap = forms.IntegerField(
        label=_("Members at most"),
        min_value=2,
        max_value=settings.ROOM_MAX_MEMBER_CAP,
        initial=settings.ROOM_DEFAULT_MEMBER_CAP,
    )
    owner_invites = forms.BooleanField(
        label=_("Only I invite people"),
        required=False,
        help_text=_("Otherwise every member may ring people into the room."),
    )

    def add_room_error(self, error: services.RoomError) -> None:
        """Show what room_create refused, next to the field it is about."""
        if error.slug == "room_taken":
            self.add_error(
                "room_id",
                _("The room id %(room_id)s is taken.")
                % {"room_id": self.cleaned_data["room_id"]},
            )
        else:
            self.add_error(None, error.message)


@login_required
@require_http_methods(["GET", "POST"])
def room_list(request: HttpRequest) -> HttpResponse:
    """Open rooms, and a form that creates one and takes you into it."""
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                room_id=form.cleaned_data["room_id"] or None,
                password=form.cleaned_data["password"],
                member_cap=form.cleaned_data["member_cap"],
                inviters="owner" if form.cleaned_data["owner_invites"] else "members",
            )
        except services.RoomError as error:
            form.add_room_error(error)
        else:
            return redirect("room_detail", room_id=room.room_id)
    return render(request, "rooms/list.html", {"rooms": rooms_open(), "form": form})


@login_required
@require_http_methods(["POST"])
def group_call_start(request: HttpRequest) -> HttpResponse:
    """A group call from the home page: a room for it, whose page then rings the
    people picked (`?invite=`)."""
    try:
        room, invitees = services.group_call_room_create(
            owner=request.user,
            name=_("%(name)s's group call") % {"name": request.user.shown_name},
            usernames=request.POST.getlist("invite"),
        )
    except services.RoomError:
        messages.error(
            request,
            _("Pick from two to %(most)d people for a group call.")
            % {"most": settings.ROOM_MAX_MEMBER_CAP - 1},
        )
        return redirect("home")
    invite = ",".join(invitees)
    return redirect(f"{reverse('room_detail', args=[room.room_id])}?invite={invite}")


@login_required
def room_detail(request, room_id: str):
    """The room: its video grid, chat with history, the owner's controls and the
    invitation picker."""
    room = get_object_or_404(
        rooms_of(request.user.application_id).select_related("owner"), room_id=room_id
    )
    history = list(room_messages(room=room).order_by("-sent_at", "-pk")[:50])[::-1]
    return render(
        request,
        "rooms/room.html",
        {
            "room": room,
            "is_owner": room.owner_id == request.user.pk,
            "can_invite": room.inviters == Room.Inviters.MEMBERS
            or room.owner_id == request.user.pk,
            "people": user_list_with_state(viewer=request.user),
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
