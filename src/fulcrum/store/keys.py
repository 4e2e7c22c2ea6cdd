"""The key directory: one-time keys (claimed atomically, exactly once) and fallback keys."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from fulcrum.store.models import FallbackKey, OneTimeKey
from fulcrum.store.records import ClaimedKeyRecord, DeviceRecord


class KeyDirectory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upload(
        self,
        device_id: str,
        one_time_keys: Mapping[str, str],
        fallback_key: Mapping[str, str] | None = None,
    ) -> int:
        """Store new one-time keys (ids already known for the device are ignored)."""
        added = 0
        if one_time_keys:
            known = set(
                self.session.scalars(
                    select(OneTimeKey.key_id).where(
                        OneTimeKey.device_id == device_id,
                        OneTimeKey.key_id.in_(list(one_time_keys)),
                    )
                )
            )
            rows = [
                {"device_id": device_id, "key_id": k, "key": v, "claimed": False}
                for k, v in one_time_keys.items()
                if k not in known
            ]
            if rows:
                self.session.execute(insert(OneTimeKey), rows)
                added = len(rows)
        if fallback_key:
            key_id, key = next(iter(fallback_key.items()))
            existing = self.session.get(FallbackKey, device_id)
            if existing is None:
                self.session.add(FallbackKey(device_id=device_id, key_id=key_id, key=key))
            else:
                existing.key_id, existing.key = key_id, key
        self.session.flush()
        return added

    def unclaimed_count(self, device_id: str) -> int:
        stmt = select(func.count()).where(
            OneTimeKey.device_id == device_id, OneTimeKey.claimed.is_(False)
        )
        return int(self.session.scalar(stmt) or 0)

    def claim(self, device: DeviceRecord) -> ClaimedKeyRecord | None:
        """Hand out one unclaimed one-time key exactly once, else the fallback key, else None.

        One ``UPDATE ... WHERE id = (SELECT ... LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING``: on
        PostgreSQL concurrent claimers skip each other's locked rows; on SQLite the statement runs
        inside a ``BEGIN IMMEDIATE`` transaction, so claims are serialised.
        """
        pick = (
            select(OneTimeKey.id)
            .where(OneTimeKey.device_id == device.id, OneTimeKey.claimed.is_(False))
            .order_by(OneTimeKey.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        stmt = (
            update(OneTimeKey)
            .where(OneTimeKey.id == pick, OneTimeKey.claimed.is_(False))
            .values(claimed=True)
            .returning(OneTimeKey.key_id, OneTimeKey.key)
        )
        row = self.session.execute(stmt).first()
        if row is not None:
            return ClaimedKeyRecord(device=device, key_id=row[0], key=row[1], fallback=False)
        fb = self.session.get(FallbackKey, device.id)
        if fb is None:
            return None
        return ClaimedKeyRecord(device=device, key_id=fb.key_id, key=fb.key, fallback=True)
