"""Accounts and their devices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from fulcrum.store.models import Account, Device
from fulcrum.store.records import DeviceRecord

_DEVICE_COLUMNS = (Device.id, Device.account, Device.identity_key, Device.signing_key)


def _record(device: Device, suspended: bool = False) -> DeviceRecord:
    return DeviceRecord(
        id=device.id,
        account=device.account,
        identity_key=device.identity_key,
        signing_key=device.signing_key,
        suspended=suspended,
    )


class AccountDirectory:
    """Accounts, devices and bearer-token lookup (tokens are stored as SHA-256 hex only)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def exists(self, name: str) -> bool:
        return self.session.get(Account, name) is not None

    def existing(self, names: Iterable[str]) -> set[str]:
        wanted = set(names)
        if not wanted:
            return set()
        rows = self.session.scalars(select(Account.name).where(Account.name.in_(wanted)))
        return set(rows)

    def create(
        self, name: str, *, birth_year: int | None, country: str | None, created_at: int
    ) -> None:
        self.session.add(
            Account(
                name=name,
                birth_year=birth_year,
                country=country,
                created_at=created_at,
                suspended=False,
            )
        )
        self.session.flush()

    def add_device(
        self,
        *,
        device_id: str,
        account: str,
        identity_key: str,
        signing_key: str,
        token_hash: str,
        created_at: int,
    ) -> DeviceRecord:
        device = Device(
            id=device_id,
            account=account,
            identity_key=identity_key,
            signing_key=signing_key,
            token_hash=token_hash,
            created_at=created_at,
        )
        self.session.add(device)
        self.session.flush()
        return _record(device)

    def device_for_token(self, token_hash: str) -> DeviceRecord | None:
        row = self.session.execute(
            select(*_DEVICE_COLUMNS, Account.suspended)
            .join(Account, Account.name == Device.account)
            .where(Device.token_hash == token_hash)
        ).first()
        return None if row is None else DeviceRecord(*row[:4], suspended=bool(row[4]))

    def devices_of(self, accounts: Sequence[str]) -> list[DeviceRecord]:
        """Devices of the given accounts, ordered by account then device id (columns only: this
        runs on every send)."""
        if not accounts:
            return []
        rows = self.session.execute(
            select(*_DEVICE_COLUMNS)
            .where(Device.account.in_(set(accounts)))
            .order_by(Device.account, Device.id)
        )
        return [DeviceRecord(*r) for r in rows]

    def device(self, account: str, device_id: str) -> DeviceRecord | None:
        device = self.session.get(Device, device_id)
        if device is None or device.account != account:
            return None
        return _record(device)
