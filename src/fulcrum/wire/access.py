"""Wire models of the warrant workflow (role ``access``, v1).

Byte strings (signed warrants, keys, extensions) are base64url without padding. Every step that
changes a warrant answers its ``WarrantStatus``: the stage and each logged step with its index.
"""

from __future__ import annotations

from pydantic import Field

from fulcrum.wire.api import B64, WireModel


class JudgeKeyIn(WireModel):
    judge_key_id: str = Field(min_length=1, max_length=256)
    court: str = Field(min_length=1, max_length=256)
    public_key: B64
    valid_from: int = Field(ge=0, lt=2**53)
    valid_until: int = Field(ge=0, lt=2**53)


class LoggedOut(WireModel):
    log_index: int = Field(ge=0)


class WarrantIn(WireModel):
    signed_warrant: B64  # SignedWarrant canonical bytes


class RequestIn(WireModel):
    checkpoint: bool = True  # cosign a checkpoint right after logging the requests


class PartialsIn(WireModel):
    trustees: list[str] | None = None  # default: every approving trustee


class ExportIn(WireModel):
    recipient: str = Field(min_length=1, max_length=256)


class ExtensionIn(WireModel):
    extension: B64  # NotificationExtension canonical bytes (judge-signed)


class StepOut(WireModel):
    step: str
    log_index: int
    time: int
    detail: str


class WarrantStatus(WireModel):
    warrant_id: str
    stage: str
    activated_at: int | None
    unsealed_at: int | None
    retained: int  # messages retained for this warrant's targets
    steps: list[StepOut]
    withheld: int = 0  # in-scope messages not requested because of the warrant's max_messages
    notes: list[str] = Field(default_factory=list)  # "N further messages in scope not ..."


class RequestsOut(WireModel):
    request_ids: list[str]
    status: WarrantStatus


class ExportOut(WireModel):
    case_id: str
    manifest_digest: B64
    log_index: int
    messages: int
    decrypted: int
    download: str  # path of the zip under the API prefix


class UnsealedOut(WireModel):
    warrant_ids: list[str]


class AccessKeys(WireModel):
    """The platform's evidence-exporter key (Ed25519, base64url), for offline verification."""

    exporter: B64
