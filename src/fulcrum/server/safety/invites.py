"""Group invite links (rule 5): an admin creates a single-use, expiring link; the account that
accepts it joins through the membership path, and the minors' group-add rule lets it in because
the added account itself accepted (``via_invite_accepted``). Blocks and the suspicious-adult rule
still apply. Only the token's SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import update

from fulcrum.safety import GroupMemberAdded
from fulcrum.server.auth import authenticated_device
from fulcrum.server.errors import conflict, error_responses, forbidden, not_found
from fulcrum.server.relay.common import now_ms, state_of
from fulcrum.server.safety.routes import service_of
from fulcrum.store import DeviceRecord, GroupDirectory
from fulcrum.store.safety_tables import SafetyInvite
from fulcrum.wire.api import GroupInfo
from fulcrum.wire.safety import InviteCreate, InviteInfo

router = APIRouter(tags=["safety"])
Caller = Depends(authenticated_device)
Token = Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@router.post(
    "/groups/{group_id}/invites",
    status_code=201,
    response_model=InviteInfo,
    responses=error_responses(401, 403, 404),
)
def create_invite(
    group_id: str, body: InviteCreate, request: Request, caller: DeviceRecord = Caller
) -> InviteInfo:
    """Create a single-use invite link (admins only); the token is shown once."""
    ts = now_ms()
    with state_of(request).db.write() as session:
        group = GroupDirectory(session).get(group_id)
        if group is None or caller.account not in group.members:
            raise not_found("no such group")
        if caller.account not in group.admins:
            raise forbidden("only group admins create invite links")
        # a letter first: a token starting with '-' would read as an option on a command line
        token = "inv" + secrets.token_urlsafe(24)
        expires = ts + body.ttl_seconds * 1000
        session.add(
            SafetyInvite(
                token_sha256=token_digest(token),
                group_id=group_id,
                created_by=caller.account,
                created_at=ts,
                expires_at=expires,
            )
        )
    return InviteInfo(token=token, group_id=group_id, expires_at=expires)


@router.post(
    "/invites/{token}/accept",
    response_model=GroupInfo,
    responses=error_responses(401, 403, 404, 409),
)
def accept_invite(request: Request, token: str = Token, caller: DeviceRecord = Caller) -> GroupInfo:
    """Join the invite's group. 404 for an unknown link; 409 ``invite_expired``, ``invite_used``,
    ``invite_revoked`` (its admin left) or ``already_member``; 403 ``safety_refused`` when a
    rule refuses (a block, or a suspicious adult's link offered to a minor)."""
    service, ts = service_of(request), now_ms()
    with state_of(request).db.write() as session:
        invite = session.get(SafetyInvite, token_digest(token))
        if invite is None:
            raise not_found("no such invite link")
        if invite.used_by is not None:
            raise conflict("this invite link was already used", "invite_used")
        if ts >= invite.expires_at:
            raise conflict("this invite link has expired", "invite_expired")
        groups = GroupDirectory(session)
        group = groups.get(invite.group_id)
        if group is None or invite.created_by not in group.admins:
            raise conflict("this invite link was revoked", "invite_revoked")
        if caller.account in group.members:
            raise conflict("already a member of this group", "already_member")
        claimed = session.execute(
            update(SafetyInvite)
            .where(SafetyInvite.token_sha256 == invite.token_sha256, SafetyInvite.used_by.is_(None))
            .values(used_by=caller.account, used_at=ts)
        )
        if getattr(claimed, "rowcount", 1) != 1:
            raise conflict("this invite link was already used", "invite_used")
        event = GroupMemberAdded(
            f"group:{group.id}", invite.created_by, caller.account, ts / 1000.0, True
        )
        engine = service.engine(session, (invite.created_by, caller.account))
        applied = service.act(session, engine, engine.check_group_add(event), ts)
        service.refuse_if_needed(applied, event)
        changed = groups.change(group.id, add=(caller.account,), remove=())
    return GroupInfo(
        group_id=changed.id,
        members=list(changed.members),
        admins=list(changed.admins),
        membership_epoch=changed.membership_epoch,
    )
