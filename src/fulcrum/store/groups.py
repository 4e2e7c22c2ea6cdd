"""Groups, their members and admins, and the membership epoch."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from fulcrum.store.models import Group, GroupMember
from fulcrum.store.records import GroupRecord


class GroupDirectory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, group_id: str) -> GroupRecord | None:
        group = self.session.get(Group, group_id)
        if group is None:
            return None
        rows = self.session.execute(
            select(GroupMember.account, GroupMember.admin)
            .where(GroupMember.group_id == group_id)
            .order_by(GroupMember.account)
        ).all()
        return GroupRecord(
            id=group.id,
            membership_epoch=group.membership_epoch,
            members=tuple(r[0] for r in rows),
            admins=tuple(r[0] for r in rows if r[1]),
        )

    def create(
        self, group_id: str, *, creator: str, members: Iterable[str], created_at: int
    ) -> GroupRecord:
        everyone = sorted(set(members) | {creator})
        self.session.add(
            Group(id=group_id, membership_epoch=0, created_by=creator, created_at=created_at)
        )
        self.session.flush()
        self.session.execute(
            insert(GroupMember),
            [{"group_id": group_id, "account": m, "admin": m == creator} for m in everyone],
        )
        return GroupRecord(group_id, 0, tuple(everyone), (creator,))

    def change(self, group_id: str, *, add: Iterable[str], remove: Iterable[str]) -> GroupRecord:
        """Apply a membership change and bump the epoch (the caller checked admin rights)."""
        current = self.get(group_id)
        if current is None:
            raise KeyError(group_id)
        to_add = sorted(set(add) - set(current.members))
        to_remove = sorted(set(remove) & set(current.members))
        if to_remove:
            self.session.execute(
                delete(GroupMember).where(
                    GroupMember.group_id == group_id, GroupMember.account.in_(to_remove)
                )
            )
        if to_add:
            self.session.execute(
                insert(GroupMember),
                [{"group_id": group_id, "account": m, "admin": False} for m in to_add],
            )
        self.session.execute(
            update(Group)
            .where(Group.id == group_id)
            .values(membership_epoch=Group.membership_epoch + 1)
        )
        updated = self.get(group_id)
        assert updated is not None
        return updated
