"""Groups: create, read (members only), change membership (admins only), leave."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fulcrum.server.auth import authenticated_device
from fulcrum.server.errors import ApiError, conflict, error_responses, forbidden, not_found
from fulcrum.server.hooks import SendRefused
from fulcrum.server.relay.common import now_ms, state_of
from fulcrum.store import AccountDirectory, DeviceRecord, GroupDirectory, GroupRecord
from fulcrum.wire.api import GroupCreate, GroupInfo, MembershipChange

router = APIRouter(tags=["groups"])


def _check_adds(
    request: Request, session: Session, group_id: str, adder: str, added: list[str]
) -> None:
    """Run the group hooks (e.g. minor protection) before members are added."""
    added = [a for a in added if a != adder]
    if not added:
        return
    try:
        for hook in state_of(request).hooks.group:
            hook.before_add(session, group_id, adder, added, now_ms())
    except SendRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from exc


Caller = Depends(authenticated_device)


def _info(group: GroupRecord) -> GroupInfo:
    return GroupInfo(
        group_id=group.id,
        members=list(group.members),
        admins=list(group.admins),
        membership_epoch=group.membership_epoch,
    )


def _member_view(groups: GroupDirectory, group_id: str, account: str) -> GroupRecord:
    group = groups.get(group_id)
    if group is None or account not in group.members:
        raise not_found("no such group")  # non-members cannot probe for groups
    return group


@router.post(
    "/groups", status_code=201, response_model=GroupInfo, responses=error_responses(401, 404, 409)
)
def create_group(body: GroupCreate, request: Request, caller: DeviceRecord = Caller) -> GroupInfo:
    """Create a group; the creator becomes its admin and a member."""
    try:
        with state_of(request).db.write() as session:
            missing = set(body.members) - AccountDirectory(session).existing(body.members)
            if missing:
                raise not_found(f"unknown accounts: {sorted(missing)}")
            groups = GroupDirectory(session)
            if groups.get(body.group_id) is not None:
                raise conflict("group id is taken")
            _check_adds(request, session, body.group_id, caller.account, list(body.members))
            group = groups.create(
                body.group_id, creator=caller.account, members=body.members, created_at=now_ms()
            )
    except IntegrityError as exc:
        raise conflict("group id is taken") from exc
    return _info(group)


@router.get("/groups/{group_id}", response_model=GroupInfo, responses=error_responses(401, 404))
def get_group(group_id: str, request: Request, caller: DeviceRecord = Caller) -> GroupInfo:
    """Members, admins and the current membership epoch (members only)."""
    with state_of(request).db.read() as session:
        return _info(_member_view(GroupDirectory(session), group_id, caller.account))


@router.post(
    "/groups/{group_id}/members",
    response_model=GroupInfo,
    responses=error_responses(401, 403, 404),
)
def change_members(
    group_id: str, body: MembershipChange, request: Request, caller: DeviceRecord = Caller
) -> GroupInfo:
    """Add and remove members (admins only); bumps the membership epoch."""
    with state_of(request).db.write() as session:
        groups = GroupDirectory(session)
        group = _member_view(groups, group_id, caller.account)
        if caller.account not in group.admins:
            raise forbidden("only group admins change membership")
        missing = set(body.add) - AccountDirectory(session).existing(body.add)
        if missing:
            raise not_found(f"unknown accounts: {sorted(missing)}")
        new = [a for a in body.add if a not in group.members]
        _check_adds(request, session, group_id, caller.account, new)
        return _info(groups.change(group_id, add=body.add, remove=body.remove))


@router.delete(
    "/groups/{group_id}/members/me", status_code=204, responses=error_responses(401, 404)
)
def leave_group(group_id: str, request: Request, caller: DeviceRecord = Caller) -> Response:
    """Leave a group (bumps the membership epoch)."""
    with state_of(request).db.write() as session:
        groups = GroupDirectory(session)
        _member_view(groups, group_id, caller.account)
        groups.change(group_id, add=(), remove=(caller.account,))
    return Response(status_code=204)
