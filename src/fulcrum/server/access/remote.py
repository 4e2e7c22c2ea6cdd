"""Trustees run as their own processes (``fulcrum trustee serve``), seen from the platform.

Configured with ``FULCRUM_ACCESS_TRUSTEES``: comma-separated ``<share index>@<base URL>`` entries
(the index is the trustee's DKG share index, 1-based in the policy's order) and the operator
token ``FULCRUM_ACCESS_TRUSTEE_TOKEN``. ``RemoteTrustee.answer`` posts the request, its warrant
opening and the request's log position; the trustee reads and verifies the log itself. Anything
but a well-formed partial for the right trustee and epoch is a ``RemoteTrusteeRefused``.

When every trustee of the escrow policy has a URL, the council is remote (see
``fulcrum.server.escrow``) and ``RemoteTrustee.decide`` also asks each trustee for its decision on a
warrant: the answer must be a decision on this warrant by this trustee, signed by its pinned
identity key; the platform logs it as the ``TrusteeApproval`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from fulcrum.access import (
    AccessError,
    DecryptionRequest,
    LoggedRequest,
    TrusteeDecision,
    WarrantOpening,
    warrant_digest,
)
from fulcrum.access.decision import verify_decision
from fulcrum.access.wire import logged_to_json, opening_to_json, partial_from_json, request_to_json
from fulcrum.encoding import EncodingError, b64d
from fulcrum.escrow import TrusteePartial
from fulcrum.hazmat.signing import VerifyKey
from fulcrum.hazmat.symmetric import constant_time_equal

ENV_VAR = "FULCRUM_ACCESS_TRUSTEES"


class RemoteTrusteeRefused(AccessError):
    """A remote trustee refused, was unreachable, or answered something unusable."""


def parse_trustee_urls(value: str) -> dict[int, str]:
    """``{index: url}`` from ``index@url,index@url``; raises ``ValueError`` if malformed."""
    out: dict[int, str] = {}
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        index, sep, url = entry.partition("@")
        if not sep or not index.isdigit() or not url.startswith(("http://", "https://")):
            raise ValueError(f"{ENV_VAR} entry must be '<index>@<http(s) URL>': {entry!r}")
        if int(index) in out:
            raise ValueError(f"{ENV_VAR} names trustee {index} twice")
        out[int(index)] = url.rstrip("/")
    return out


@dataclass(frozen=True)
class RemoteTrustee:
    index: int
    url: str
    token: str = field(repr=False)
    timeout: float = 30.0

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            r = httpx.post(f"{self.url}{path}", json=body, headers=headers,
                           timeout=self.timeout)  # fmt: skip
        except httpx.HTTPError as exc:
            raise RemoteTrusteeRefused(
                f"trustee {self.index} unreachable: {type(exc).__name__}"
            ) from exc
        try:
            out = r.json()
        except ValueError:
            out = {}
        if r.status_code != 200:
            code = out.get("code", r.status_code) if isinstance(out, dict) else r.status_code
            msg = out.get("message", "") if isinstance(out, dict) else ""
            raise RemoteTrusteeRefused(f"trustee {self.index} refused ({code}): {msg}")
        if not isinstance(out, dict):
            raise RemoteTrusteeRefused(f"trustee {self.index} answered a non-object")
        return out

    def decide(self, opening: WarrantOpening, name: str, identity: VerifyKey) -> TrusteeDecision:
        """The trustee's signed decision on ``opening`` (approval or denial), checked."""
        out = self._post("/approvals", {"opening": opening_to_json(opening)})
        try:
            raw, sig = b64d(str(out["decision"])), b64d(str(out["signature"]), length=64)
        except (KeyError, EncodingError) as exc:
            raise RemoteTrusteeRefused(f"trustee {self.index}: malformed decision") from exc
        decision = verify_decision(raw, sig, identity)
        w = opening.signed.warrant
        if decision.warrant_id != w.warrant_id or decision.trustee_id != name:
            raise RemoteTrusteeRefused(f"trustee {self.index} decided on another warrant or name")
        expected = warrant_digest(opening.signed, opening.salt)
        if not constant_time_equal(decision.warrant_digest, expected):
            raise RemoteTrusteeRefused(f"trustee {self.index} decided on another commitment")
        return decision

    def answer(
        self, request: DecryptionRequest, opening: WarrantOpening, logged: LoggedRequest
    ) -> TrusteePartial:
        body = {
            "request": request_to_json(request),
            "opening": opening_to_json(opening),
            "logged": logged_to_json(logged),
        }
        out = self._post("/partials", body)
        partial = partial_from_json(out.get("partial"))
        if partial.trustee_index != self.index or partial.epoch != request.epoch:
            raise RemoteTrusteeRefused(
                f"trustee {self.index} answered a partial for index {partial.trustee_index}, "
                f"epoch {partial.epoch}"
            )
        return partial
