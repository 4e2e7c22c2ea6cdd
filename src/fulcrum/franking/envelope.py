"""The platform's envelope: what the relay knows about a message and binds into the tag.

``C(env)`` is RFC 8785 canonical JSON of ``ServerEnvelope.to_json()``. A 1:1 (or small fan-out)
message names its recipient accounts; a group message names the group, the membership epoch the
sender encrypted for and ``H(member list)`` (``members_hash``), so a later report can prove that the
reporter was a member at that epoch without the envelope carrying the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fulcrum.encoding import canonical_json, domain_message
from fulcrum.franking._canon import env_canonical
from fulcrum.franking._fields import (
    DIGEST_BYTES,
    MSG_ID_BYTES,
    check_bytes,
    check_id,
    check_int,
    dec,
    enc,
    exact_keys,
)
from fulcrum.franking.errors import FrankingFormatError
from fulcrum.hazmat.symmetric import sha256

MAX_RECIPIENTS = 1000
MEMBERS_LABEL = "members-v1"

_ENV_KEYS = frozenset({"sender", "sender_device", "conv", "msg_id", "server_ts", "ct_sha256"})
_GROUP_KEYS = frozenset({"group_id", "membership_epoch", "members_hash"})


def members_hash(members: Iterable[str]) -> bytes:
    """``H(member list)``: SHA-256 over the canonical JSON of the sorted, de-duplicated accounts."""
    accounts = sorted({check_id("member", m) for m in members})
    return sha256(domain_message(MEMBERS_LABEL, canonical_json(accounts)))


@dataclass(frozen=True)
class GroupAudience:
    group_id: str
    membership_epoch: int
    members_hash: bytes

    def __post_init__(self) -> None:
        check_id("group_id", self.group_id)
        check_int("membership_epoch", self.membership_epoch)
        check_bytes("members_hash", self.members_hash, DIGEST_BYTES)

    @classmethod
    def of(cls, group_id: str, membership_epoch: int, members: Iterable[str]) -> GroupAudience:
        return cls(group_id, membership_epoch, members_hash(members))

    def to_json(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "membership_epoch": self.membership_epoch,
            "members_hash": enc(self.members_hash),
        }

    @classmethod
    def from_json(cls, obj: object) -> GroupAudience:
        data = exact_keys(obj, "group", _GROUP_KEYS)
        return cls(
            group_id=check_id("group_id", data["group_id"]),
            membership_epoch=check_int("membership_epoch", data["membership_epoch"]),
            members_hash=dec("members_hash", data["members_hash"], DIGEST_BYTES),
        )


@dataclass(frozen=True)
class ServerEnvelope:
    """``env``: set by the relay (``server_ts`` is authoritative, in ms since the epoch).

    Exactly one of ``recipients`` (accounts, stored sorted and unique) or ``group`` is set.
    ``ct_sha256`` is SHA-256 of the body ciphertext as relayed.
    """

    sender: str
    sender_device: str
    conv: str
    msg_id: bytes
    server_ts: int
    ct_sha256: bytes
    recipients: tuple[str, ...] = ()
    group: GroupAudience | None = None

    def __post_init__(self) -> None:
        check_id("sender", self.sender)
        check_id("sender_device", self.sender_device)
        check_id("conv", self.conv)
        check_bytes("msg_id", self.msg_id, MSG_ID_BYTES)
        check_int("server_ts", self.server_ts)
        check_bytes("ct_sha256", self.ct_sha256, DIGEST_BYTES)
        if not isinstance(self.recipients, tuple):
            raise FrankingFormatError("recipients must be a tuple")
        normalised = tuple(sorted({check_id("recipient", r) for r in self.recipients}))
        object.__setattr__(self, "recipients", normalised)
        if len(normalised) > MAX_RECIPIENTS:
            raise FrankingFormatError(f"at most {MAX_RECIPIENTS} recipients")
        if (self.group is None) == (not normalised):
            raise FrankingFormatError("an envelope names either recipients or a group, not both")
        if self.group is not None and not isinstance(self.group, GroupAudience):
            raise FrankingFormatError("group must be a GroupAudience")

    def addresses(self, account: str, group_members: Iterable[str] | None = None) -> bool:
        """Was ``account`` a recipient? For a group, ``group_members`` is the member list at the
        envelope's epoch; it only counts if it hashes to the envelope's ``members_hash``."""
        if self.group is None:
            return account in self.recipients
        if group_members is None:
            return False
        members = list(group_members)
        if members_hash(members) != self.group.members_hash:
            return False
        return account in members

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sender": self.sender,
            "sender_device": self.sender_device,
            "conv": self.conv,
            "msg_id": enc(self.msg_id),
            "server_ts": self.server_ts,
            "ct_sha256": enc(self.ct_sha256),
        }
        if self.group is not None:
            data["group"] = self.group.to_json()
        else:
            data["recipients"] = list(self.recipients)
        return data

    @cached_property
    def _canonical(self) -> bytes:
        return env_canonical(self)  # == canonical_json(self.to_json()), written directly

    def canonical(self) -> bytes:
        """``C(env)``: the bytes that go into the tag."""
        return self._canonical

    @classmethod
    def from_json(cls, obj: object) -> ServerEnvelope:
        data = exact_keys(obj, "env", _ENV_KEYS, frozenset({"recipients", "group"}))
        recipients: tuple[str, ...] = ()
        if "recipients" in data:
            raw = data["recipients"]
            if not isinstance(raw, list) or not raw:
                raise FrankingFormatError("recipients must be a non-empty list")
            recipients = tuple(check_id("recipient", r) for r in raw)
            if list(recipients) != sorted(set(recipients)):
                raise FrankingFormatError("recipients must be sorted and unique")
        return cls(
            sender=data["sender"],  # checked by __post_init__
            sender_device=data["sender_device"],
            conv=data["conv"],
            msg_id=dec("msg_id", data["msg_id"], MSG_ID_BYTES),
            server_ts=data["server_ts"],
            ct_sha256=dec("ct_sha256", data["ct_sha256"], DIGEST_BYTES),
            recipients=recipients,
            group=GroupAudience.from_json(data["group"]) if "group" in data else None,
        )
