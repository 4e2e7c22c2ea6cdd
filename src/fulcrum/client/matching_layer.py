"""Private matching on the client: every outgoing image gets a voucher bundle.

``MatchingPreparer`` (async, before the message is composed), per image attachment (mime
``image/*``): fetch the custodian's manifest through the platform and verify it against the
pinned trust roots and its inclusion in the transparency log (``MANIFEST_CHECKS``),
hash the image (pinned decode, EXIF transpose, border-trim variant, PDQ), blind its LSH keys, have
the platform relay the batch to the custodian, verify the batch proof under the manifest's key
and seal the bundle. ``VoucherLayer`` (pure) then puts the bundles into
``message.extensions["vouchers"]``. Messages without images carry nothing; images PDQ rates below
quality 50 (or that do not decode) carry dummy vouchers of the same size. The client never
learns whether an image matched.

Layer state (``core.layer_state["matching"]``, persisted with the device): the account's
matching key seed (``account_key``), optionally pinned ``trust`` roots, the pinned log and
witness keys (``log_keys``: ``pin_log_keys``, else pinned on first use from the first log
evidence the platform serves), and the bundles waiting for the next send (``pending``).
Trust roots come from that state (``pin_trust``) or from the JSON file named by
``FULCRUM_MATCHING_TRUST``; a manifest without them is refused.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fulcrum.client.core import ClientError
from fulcrum.client.layers import OutgoingMessage
from fulcrum.client.transport import ApiError
from fulcrum.e2ee.content import AttachmentKey
from fulcrum.encoding import b64d, b64e, canonical_json
from fulcrum.matching import (
    AccountMatchingKey,
    BankManifest,
    LogKeys,
    ManifestInclusion,
    ManifestTrust,
    PdqHash,
    finalize_image_vouchers,
    hash_image_bytes,
    prepare_hash_vouchers,
    verify_logged,
)
from fulcrum.matching.errors import ImageDecodeError, ManifestError, MatchingError
from fulcrum.wire.api import API_PREFIX
from fulcrum.wire.matching import VOUCHERS_EXTENSION, ManifestLogOut, TrustRoots

if TYPE_CHECKING:
    from fulcrum.client.sdk import FulcrumClient
    from fulcrum.client.standard import LayerSet

NAME = "matching"
TRUST_ENV = "FULCRUM_MATCHING_TRUST"
MIN_WITNESSES = 2

ManifestCheck = Callable[["FulcrumClient", BankManifest], Awaitable[None]]
# Checks a signature-verified manifest must also pass before its VOPRF key is used; each raises
# ``ManifestError`` to refuse. ``require_logged`` (below) is registered by default.
MANIFEST_CHECKS: list[ManifestCheck] = []


class ManifestRefused(ClientError):
    """The platform offered a bank manifest this client does not accept; nothing was sent."""


def pin_trust(client: FulcrumClient, trust: ManifestTrust) -> None:
    """Pin the custodian and source keys this device accepts manifests from."""
    state = client.core.layer_state.setdefault(NAME, {})
    state["trust"] = TrustRoots.from_trust(trust).model_dump(mode="json")
    client.save()


def _trust(state: dict[str, Any]) -> ManifestTrust:
    if "trust" in state:
        return TrustRoots.model_validate(state["trust"]).to_trust()
    path = os.environ.get(TRUST_ENV)
    if path:
        return TrustRoots.model_validate(json.loads(Path(path).read_text())).to_trust()
    raise ManifestRefused(
        "no matching trust roots are pinned (pin_trust or FULCRUM_MATCHING_TRUST)"
    )


def pin_log_keys(client: FulcrumClient, keys: LogKeys) -> None:
    """Pin the transparency log's key and its witnesses' keys (instead of trust on first use)."""
    state = client.core.layer_state.setdefault(NAME, {})
    state["log_keys"] = {
        "log_vkey": keys.log_vkey,
        "witness_vkeys": list(keys.witness_vkeys),
        "min_witnesses": keys.min_witnesses,
    }
    client.save()


def _log_keys(client: FulcrumClient, offered: ManifestLogOut) -> tuple[LogKeys, bool]:
    """Pinned keys: this layer's, else those the escrow layer pinned for the same log (its
    ``layer_state["escrow"]["log"]``), else the offered ones (first use). Never fewer than two
    witnesses, whatever the server says."""
    states = client.core.layer_state
    for pinned in (states.get(NAME, {}).get("log_keys"), states.get("escrow", {}).get("log")):
        if isinstance(pinned, dict):
            return LogKeys(
                str(pinned["log_vkey"]),
                tuple(str(v) for v in pinned["witness_vkeys"]),
                max(MIN_WITNESSES, int(pinned["min_witnesses"])),
            ), False
    keys = LogKeys(
        offered.log_vkey,
        tuple(offered.witness_vkeys),
        max(MIN_WITNESSES, offered.min_witnesses),
    )
    return keys, True


async def require_logged(client: FulcrumClient, manifest: BankManifest) -> None:
    """Refuse a manifest that is not in the transparency log under a checkpoint cosigned by
    the pinned witnesses (log keys are pinned on first use unless ``pin_log_keys`` ran)."""
    try:
        response = await client.transport.request(
            "GET",
            f"{API_PREFIX}/matching/manifest/log",
            params={"digest": b64e(manifest.core_digest())},
        )
        offered = ManifestLogOut.model_validate_json(response.content)
    except ApiError as exc:
        raise ManifestError(f"the platform shows no log entry for this manifest ({exc})") from exc
    except ValueError as exc:
        raise ManifestError("malformed manifest log evidence") from exc
    try:
        keys, first_use = _log_keys(client, offered)
        inclusion = ManifestInclusion(
            offered.log_index,
            b64d(offered.entry),
            tuple(b64d(p) for p in offered.inclusion),
            offered.checkpoint.encode("utf-8"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ManifestError("malformed manifest log evidence or pinned log keys") from exc
    verify_logged(manifest, inclusion, keys)
    if first_use:
        pin_log_keys(client, keys)


MANIFEST_CHECKS.append(require_logged)


def account_key(state: dict[str, Any]) -> AccountMatchingKey:
    """This account's matching key (created on first use and kept in the layer state)."""
    if "account_key" not in state:
        state["account_key"] = b64e(AccountMatchingKey.generate().to_bytes())
    return AccountMatchingKey(b64d(state["account_key"], length=32))


def review_material(key: AttachmentKey) -> bytes:
    """What a reviewer gets if (and only if) this image is released: the attachment key, with
    which the stored attachment ciphertext can be fetched and opened."""
    return canonical_json(key.to_json())


def image_hashes(data: bytes) -> list[PdqHash]:
    try:
        return hash_image_bytes(data)
    except ImageDecodeError:
        return [PdqHash(bytes(32), quality=0)]  # undecodable: dummy vouchers, same size


class MatchingPreparer:
    name = NAME

    async def manifest(self, client: FulcrumClient) -> BankManifest | None:
        """The verified current manifest, or None when the platform runs no matching."""
        try:
            response = await client.transport.request("GET", f"{API_PREFIX}/matching/manifest")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        state = client.core.layer_state.setdefault(NAME, {})
        try:
            manifest = BankManifest.from_bytes(response.content)
            manifest.verify(_trust(state))
            for check in MANIFEST_CHECKS:
                await check(client, manifest)
        except MatchingError as exc:
            raise ManifestRefused(f"bank manifest refused: {exc}") from exc
        return manifest

    async def prepare(
        self, client: FulcrumClient, attachments: Sequence[tuple[AttachmentKey, bytes]]
    ) -> None:
        state = client.core.layer_state.setdefault(NAME, {})
        state.pop("pending", None)
        images = [(k, d) for k, d in attachments if k.mime.lower().startswith("image/")]
        if not images:
            return
        manifest = await self.manifest(client)
        if manifest is None:
            return
        trust = _trust(state)
        key = account_key(state)
        now = int(client.clock())
        pending: dict[str, str] = {}
        for att, data in images:
            hashes = await asyncio.to_thread(image_hashes, data)
            step = await asyncio.to_thread(
                prepare_hash_vouchers,
                hashes[:2],
                manifest,
                trust,
                key,
                review_material(att),
                now,
            )
            response = await client.transport.request(
                "POST", f"{API_PREFIX}/matching/evaluate", content=step.evaluation_request
            )
            try:
                bundle = await asyncio.to_thread(finalize_image_vouchers, step, response.content)
            except MatchingError as exc:
                raise ManifestRefused(f"custodian evaluation refused: {exc}") from exc
            pending[att.attachment_id] = b64e(bundle)
        state["pending"] = pending


class VoucherLayer:
    name = NAME

    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        pending: dict[str, str] = state.pop("pending", None) or {}
        slots = [
            {"attachment": i, "bundle": pending[a.attachment_id]}
            for i, a in enumerate(message.attachments)
            if a.attachment_id in pending
        ]
        if slots:
            message.extensions[VOUCHERS_EXTENSION] = slots


def add_matching(layers: LayerSet) -> None:
    layers.preparers.append(MatchingPreparer())
    layers.send.append(VoucherLayer())
