"""The room.* frames on the one socket (a mixin of calls.consumers.SocketConsumer).

Thin like the rest of the consumer: services do the writes, rooms.delivery the
sending. Each socket remembers, per room it is in, the other members' ids (from its
own `room.joined` and the member events), so relaying `room.signal` needs no query.
"""

from calls import protocol
from calls.services import room_invite
from config.db_threads import db_async
from rooms import services
from rooms.delivery import (
    room_announce_closed,
    room_announce_kicked,
    room_announce_left,
    room_announce_muted,
    room_broadcast,
    room_group,
    room_send_to_member,
)


class RoomHandlers:
    def room_handlers(self) -> dict:
        self.rooms: dict[str, set[str]] = {}
        return {
            "room.join": self.on_room_join,
            "room.leave": self.on_room_leave,
            "room.signal": self.on_room_signal,
            "room.message": self.on_room_message,
            "room.custom": self.on_room_message,
            "room.media": self.on_room_media,
            "room.kick": self.on_room_kick,
            "room.mute_all": self.on_room_mute_all,
            "room.close": self.on_room_close,
            "room.invite": self.on_room_invite,
        }

    async def room_service(self, frame, service, **fields):
        """Run a rooms service; its RoomError becomes this frame's error."""
        try:
            return await db_async(service)(**fields)
        except services.RoomError as error:
            raise protocol.ProtocolError(
                error.slug, error.message, req=frame.req
            ) from None

    async def on_room_join(self, frame: protocol.RoomJoin):
        room, member, members, created = await self.room_service(
            frame,
            services.room_join,
            user=self.user,
            device_id=self.device_id,
            room_id=frame.room_id,
            password=frame.password,
        )
        await self.channel_layer.group_add(room_group(room.room_id), self.channel_name)
        self.rooms[room.room_id] = {
            m.member_id for m in members if m.member_id != self.device_id
        }
        await self.answer(frame, room_id=room.room_id, member_id=member.member_id)
        await self.send_frame(
            protocol.RoomJoined(
                room_id=room.room_id,
                member_id=member.member_id,
                room=protocol.RoomInfo(
                    room_id=room.room_id,
                    name=room.name,
                    info=room.info,
                    owner=protocol.UserInfo.of(room.owner),
                    member_cap=room.member_cap,
                ),
                members=[protocol.RoomMemberInfo.of(m) for m in members],
            )
        )
        # A repeat join tells nobody; a member the room had lost (a sweep took it while
        # its socket lived on) is announced again.
        if created:
            await room_broadcast(
                room.room_id,
                protocol.RoomMemberJoined(
                    room_id=room.room_id, member=protocol.RoomMemberInfo.of(member)
                ),
                effect={"kind": "joined", "member_id": member.member_id},
                except_member=self.device_id,
            )
        return self.ANSWERED

    async def on_room_leave(self, frame: protocol.RoomLeave) -> None:
        await self.room_service(
            frame, services.room_leave, room_id=frame.room_id, device_id=self.device_id
        )
        await self.out_of_room(frame.room_id)
        await room_announce_left(frame.room_id, self.device_id, "left")

    async def on_room_signal(self, frame: protocol.RoomSignal) -> None:
        others = self.rooms.get(frame.room_id)
        if others is None:
            raise protocol.ProtocolError(
                "not_in_room", "This device is not in that room.", req=frame.req
            )
        if frame.to not in others:
            raise protocol.ProtocolError(
                "member_not_found", "No such member in this room.", req=frame.req
            )
        await room_send_to_member(
            frame.room_id,
            frame.to,
            protocol.RoomSignalRelay(
                room_id=frame.room_id,
                from_=self.device_id,
                description=frame.description,
                candidate=frame.candidate,
            ),
        )

    async def on_room_message(self, frame) -> dict:
        custom = isinstance(frame, protocol.RoomCustom)
        message = await self.room_service(
            frame,
            services.room_message_post,
            room_id=frame.room_id,
            user=self.user,
            device_id=self.device_id,
            kind="custom" if custom else "text",
            text="" if custom else frame.text,
            data=frame.data if custom else None,
        )
        await room_broadcast(
            frame.room_id,
            protocol.RoomMessageOut(
                room_id=frame.room_id,
                id=message.pk,
                from_=protocol.UserInfo.of(self.user),
                member_id=self.device_id,
                kind=message.kind,
                text=None if custom else message.text,
                data=message.data if custom else None,
                sent_at=message.sent_at.isoformat(),
            ),
        )
        return {"id": message.pk}

    async def on_room_media(self, frame: protocol.RoomMedia) -> None:
        await self.room_service(
            frame,
            services.room_member_media,
            room_id=frame.room_id,
            device_id=self.device_id,
            audio=frame.audio,
            video=frame.video,
        )
        await room_broadcast(
            frame.room_id,
            protocol.RoomMediaOut(
                room_id=frame.room_id,
                member_id=self.device_id,
                audio=frame.audio,
                video=frame.video,
            ),
            except_member=self.device_id,
        )

    async def on_room_invite(self, frame: protocol.RoomInvite):
        """Ring people into the room: each invitation then goes as a call does."""
        outcome, invitations = await db_async(room_invite)(
            room_id=frame.room_id,
            by=self.user,
            by_device=self.device_id,
            usernames=frame.users,
            media=frame.media,
        )
        return await self.conclude(frame, outcome, invitations=invitations)

    async def on_room_kick(self, frame: protocol.RoomKick) -> None:
        member = await self.room_service(
            frame,
            services.room_kick,
            room_id=frame.room_id,
            by=self.user,
            member_id=frame.member_id,
        )
        await room_announce_kicked(frame.room_id, member.member_id, by=self.user)

    async def on_room_mute_all(self, frame: protocol.RoomMuteAll) -> None:
        muted = await self.room_service(
            frame, services.room_mute_all, room_id=frame.room_id, by=self.user
        )
        # Not the owner's own devices: they are not muted.
        await room_announce_muted(frame.room_id, muted, by=self.user)

    async def on_room_close(self, frame: protocol.RoomClose) -> None:
        room = await self.room_service(
            frame,
            services.room_open,
            room_id=frame.room_id,
            application_id=self.user.application_id,
        )
        members = await self.room_service(
            frame, services.room_close, room=room, by=self.user
        )
        await room_announce_closed(frame.room_id, members)

    # --- helpers and events ------------------------------------------------------

    async def out_of_room(self, room_id: str) -> None:
        self.rooms.pop(room_id, None)
        await self.channel_layer.group_discard(room_group(room_id), self.channel_name)

    async def forget_rooms(self) -> None:
        """This socket is closing: out of every room group it joined."""
        for room_id in list(self.rooms):
            await self.out_of_room(room_id)

    async def room_event(self, event):
        """Called when a room frame for this socket arrives, from whichever process."""
        if event["except_member"] == self.device_id:
            return
        room_id, effect = event["room_id"], event["effect"] or {}
        if effect.get("kind") == "joined":
            self.rooms.setdefault(room_id, set()).add(effect["member_id"])
        elif effect.get("kind") == "left":
            self.rooms.get(room_id, set()).discard(effect["member_id"])
        elif effect.get("kind") == "out":
            await self.out_of_room(room_id)
        await self.send(text_data=event["text"])
