"""The coordinators' admin API (`/api/admin/...`): JSON over HTTP with a coordinator token.

A request without a valid coordinator token is refused before anything else: 401 for none or
a bad one, 403 for a member or facilitator token. A request with a body must say
`Content-Type: application/json` (415). Bad input is 400 `{"error": code, "message"}`; the
message never repeats what was sent. No CORS headers are sent: browsers on other origins
cannot call it.

Facilitators (invite, list, revoke), rooms (create, edit, archive: live on every process within
a second, server/live_rooms.py), the open items of every room's queue, and the admin audit log.
Revocation holds on every process within a second (server/standing.py) and ends standing on
open sockets with `facilitator_ended`. Every change made here is audited (who, what, when;
never message text).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moderation.queue import service_queue
from moderation.sanctions import iso_seconds
from rooms.catalog import CatalogError, edit_room, parse_room, room_record
from rooms.errors import ChatError
from rooms.ids import RoomId, is_valid_room_id
from server import live_rooms, moods, wire
from server.brokers import BrokerUnavailable
from server.queue import to_facilitators
from server.services import Services
from server.tokens import CoordinatorClaim

__all__ = [
    "ADMIN_AUDIT",
    "MAX_FACILITATOR_HOURS",
    "MAX_ROOMS",
    "SERVICE_QUEUE_ITEMS",
    "admin_routes",
]

MAX_FACILITATOR_HOURS = 24 * 90  # a season; `peer-support facilitator-token` allows the same
# A morning's reading; crisis alerts come first, so none is left out for reports.
SERVICE_QUEUE_ITEMS = 500
# The admin audit log lives beside the rooms' own, under a name no room id can take (room ids
# are lowercase letters, digits and hyphens).
ADMIN_AUDIT = RoomId("_service")
_MAX_BODY_BYTES = 64 * 1024
# Rooms served at once: the directory is read whole on every visit, and every process keeps
# every definition.
MAX_ROOMS = 500


class _Refused(Exception):
    """Answer the request with `status` and `{"error": code, "message": message}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.code, "message": self.message}, self.status)


def _iso(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _coordinator(svc: Services, request: Request) -> CoordinatorClaim:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _Refused(401, "unauthorized", "a coordinator token is required")
    token = token.strip()
    try:
        return svc.tokens.read_coordinator(token)
    except ChatError:
        if svc.tokens.purpose_of(token) is not None:
            raise _Refused(403, "forbidden", "only coordinators can do that") from None
        raise _Refused(401, "unauthorized", "the coordinator token is not valid") from None


async def _json_body(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/json":
        raise _Refused(415, "unsupported_media_type", "send the body as application/json")
    raw = await request.body()
    if len(raw) > _MAX_BODY_BYTES:
        raise _Refused(400, "too_large", "the body is too large")
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Refused(400, "bad_request", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _Refused(400, "bad_request", "the body must be a JSON object")
    return body


def _invite(svc: Services, body: dict[str, Any]) -> tuple[str, list[str] | None, float]:
    """The invitation's name, rooms (None: all) and hours, checked."""
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 40:
        raise _Refused(400, "bad_request", "name must be 1 to 40 characters")
    rooms = body.get("rooms")
    if rooms is not None:
        if not isinstance(rooms, list) or not rooms or not all(isinstance(r, str) for r in rooms):
            raise _Refused(400, "bad_request", "rooms must be a list of room ids, or null")
        if any(svc.catalog.get(RoomId(r)) is None for r in rooms):
            raise _Refused(400, "not_found", "rooms names a room that does not exist")
        rooms = sorted(set(rooms))
    hours = body.get("hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float):
        raise _Refused(400, "bad_request", "hours must be a number")
    if not 0 < hours <= MAX_FACILITATOR_HOURS:
        raise _Refused(
            400, "bad_request", f"hours must be more than 0, at most {MAX_FACILITATOR_HOURS}"
        )
    return name.strip(), rooms, float(hours)


def _room_refused(exc: CatalogError) -> _Refused:
    # The message names the field and the limit; the part before ": " names the room, which
    # is what was sent: left out.
    message = str(exc).partition(": ")[2] or "the room is not valid"
    return _Refused(400, "bad_request", message)


async def _stored_rooms(svc: Services) -> dict[str, dict[str, Any]]:
    """The broker's room records by id (not the process's catalogue: the newest word)."""
    _, records = await svc.broker.room_records()
    return {str(r["id"]): r for r in records}


Endpoint = Callable[[Request, CoordinatorClaim], Awaitable[Response]]


def _coordinators_only(
    svc: Services, endpoints: dict[str, Endpoint]
) -> Callable[[Request], Awaitable[Response]]:
    """The route: the coordinator check first, then the endpoint of the request's method; a
    refusal or a broker fault becomes its JSON answer (one place for every admin route)."""

    async def route(request: Request) -> Response:
        try:
            claim = _coordinator(svc, request)
            # Starlette answers HEAD wherever GET is allowed: with GET's endpoint.
            method = "GET" if request.method == "HEAD" else request.method
            return await endpoints[method](request, claim)
        except _Refused as refused:
            return refused.response()
        except BrokerUnavailable:
            return JSONResponse({"error": "unavailable", "message": "try again"}, 503)

    return route


def admin_routes(svc: Services) -> list[Route]:
    """The admin API's routes for one process."""

    async def audit(by: CoordinatorClaim, action: str, **about: Any) -> None:
        entry = {"at": iso_seconds(int(svc.now() * 1000)), "by": by.name, "action": action,
                 **about}  # fmt: skip
        keep = svc.settings.audit_days * 86400 * 1000
        await svc.broker.audit_append(ADMIN_AUDIT, wire.encode(entry), keep, 1000)

    async def list_facilitators(request: Request, by: CoordinatorClaim) -> Response:
        now_ms = int(svc.now() * 1000)
        records = await svc.broker.facilitator_records(now_ms)
        online = await svc.broker.online(now_ms)
        listed = [
            {
                "id": r["id"],
                "name": r["name"],
                "rooms": r["rooms"],
                "expires": _iso(int(r["expires"])),
                "revoked": bool(r.get("revoked")),
                "online": r["id"] in online,
            }
            for r in sorted(records, key=lambda r: (str(r["name"]), str(r["id"])))
        ]
        return JSONResponse(listed)

    async def invite_facilitator(request: Request, by: CoordinatorClaim) -> Response:
        name, rooms, hours = _invite(svc, await _json_body(request))
        token = svc.tokens.issue_facilitator(name, rooms, hours)
        claim = svc.tokens.read_facilitator(token)
        expires = int(claim.expires_at * 1000)
        record = {"id": claim.id, "name": name, "rooms": rooms, "expires": expires,
                  "revoked": False}  # fmt: skip
        await svc.broker.facilitator_save(record, int(svc.now() * 1000))
        await audit(by, "facilitator_invite", facilitator=claim.id, name=name, rooms=rooms)
        answer = {"id": claim.id, "name": name, "rooms": rooms, "expires": _iso(expires),
                  "token": token}  # fmt: skip
        return JSONResponse(answer, 201)

    async def revoke_facilitator(request: Request, by: CoordinatorClaim) -> Response:
        fid = str(request.path_params["fid"])
        if len(fid) > 64 or not await svc.broker.revoke(fid, int(svc.now() * 1000)):
            raise _Refused(404, "not_found", "no such facilitator")
        await audit(by, "facilitator_revoke", facilitator=fid)
        return Response(status_code=204)

    async def queue(request: Request, by: CoordinatorClaim) -> Response:
        # Every room's open items, crisis alerts first: what waits across the service.
        # Archived rooms too: an open crisis alert does not go away with its room.
        ids = [room.id for room in svc.catalog] + await svc.broker.archived_rooms()
        rooms = {str(r): await svc.broker.queue_items(RoomId(r)) for r in ids}
        return JSONResponse(service_queue(rooms, SERVICE_QUEUE_ITEMS).items)

    async def resolve_item(request: Request, by: CoordinatorClaim) -> Response:
        # A coordinator may close an item too: one from an archived room has nobody else who
        # can (its facilitators can no longer join it).
        room_id, item = str(request.path_params["room"]), str(request.path_params["item"])
        keep = svc.settings.audit_days * 86400 * 1000
        resolved = None
        if is_valid_room_id(room_id) and len(item) <= 64:
            resolved = await svc.broker.queue_resolve(RoomId(room_id), item, "coordinator", keep)
        if resolved is None:
            raise _Refused(404, "not_found", "no such queue item")
        frame = {"type": "resolved", "room": room_id, "item": item, "by": "coordinator"}
        await svc.broker.publish(RoomId(room_id), to_facilitators(frame))
        await audit(by, "queue_resolve", room=room_id, item=item)
        return Response(status_code=204)

    async def audit_log(request: Request, by: CoordinatorClaim) -> Response:
        entries = [json.loads(e) for e in await svc.broker.audit_entries(ADMIN_AUDIT)]
        return JSONResponse(entries)

    async def outcomes(request: Request, by: CoordinatorClaim) -> Response:
        # Check-in counts per room and session (server/moods.py), threshold applied.
        return JSONResponse(await moods.outcomes(svc))

    async def list_rooms(request: Request, by: CoordinatorClaim) -> Response:
        records = sorted(
            (await _stored_rooms(svc)).values(), key=lambda r: (int(r["order"]), str(r["id"]))
        )
        return JSONResponse([room_record(parse_room(r, "stored room")) for r in records])

    async def create_room(request: Request, by: CoordinatorClaim) -> Response:
        body = await _json_body(request)
        try:
            room = parse_room({**body, "rules_version": 1}, "new room")
        except CatalogError as exc:
            raise _room_refused(exc) from None
        if len(await _stored_rooms(svc)) >= MAX_ROOMS:
            raise _Refused(400, "limit_reached", f"at most {MAX_ROOMS} rooms")
        order = int(svc.now() * 1000)  # after every room of the file, in creation order
        answer = await svc.broker.room_write("create", room.id, live_rooms.stored(room, 1, order))
        if answer == "exists":
            raise _Refused(400, "already_exists", "a room with that id exists")
        if answer == "archived":
            raise _Refused(409, "archived", "that id belonged to an archived room")
        await live_rooms.refresh(svc)
        await audit(by, "room_create", room=room.id)
        return JSONResponse(room_record(room), 201)

    async def edit(request: Request, by: CoordinatorClaim) -> Response:
        room_id = str(request.path_params["room"])
        changes = await _json_body(request)
        record = (await _stored_rooms(svc)).get(room_id) if is_valid_room_id(room_id) else None
        if record is None:
            raise _Refused(404, "not_found", "no such room")
        try:
            room = edit_room(parse_room(record, "stored room"), changes)
        except CatalogError as exc:
            raise _room_refused(exc) from None
        rev = int(record["rev"])
        answer = await svc.broker.room_write(
            "update", room.id, live_rooms.stored(room, rev + 1, int(record["order"])), rev
        )
        if answer == "conflict":
            raise _Refused(409, "conflict", "the room changed meanwhile: read it and try again")
        if answer != "ok":
            raise _Refused(404, "not_found", "no such room")
        await live_rooms.refresh(svc)
        await audit(by, "room_edit", room=room.id, fields=sorted(changes),
                    rules_version=room.rules_version)  # fmt: skip
        return JSONResponse(room_record(room))

    async def archive(request: Request, by: CoordinatorClaim) -> Response:
        room_id = str(request.path_params["room"])
        if not is_valid_room_id(room_id) or (
            await svc.broker.room_write("archive", room_id, None) != "ok"
        ):
            raise _Refused(404, "not_found", "no such room")
        await live_rooms.refresh(svc)
        await audit(by, "room_archive", room=room_id)
        return Response(status_code=204)

    def route(path: str, **endpoints: Endpoint) -> Route:
        return Route(path, _coordinators_only(svc, endpoints), methods=list(endpoints))

    return [
        route("/api/admin/queue", GET=queue),
        route("/api/admin/queue/{room}/{item}", DELETE=resolve_item),
        route("/api/admin/audit", GET=audit_log),
        route("/api/admin/outcomes", GET=outcomes),
        route("/api/admin/facilitators", GET=list_facilitators, POST=invite_facilitator),
        route("/api/admin/facilitators/{fid}", DELETE=revoke_facilitator),
        route("/api/admin/rooms", GET=list_rooms, POST=create_room),
        route("/api/admin/rooms/{room}", PUT=edit, DELETE=archive),
    ]
