"""Private matching on the client: every outgoing image gets a voucher bundle.

``MatchingPreparer`` (async, before the message is composed), per image attachment (mime
``image/*``): fetch the custodian's manifest through the platform and verify it against the
pinned trust roots (and, once the transparency log lands, its inclusion: ``MANIFEST_CHECKS``),
hash the image (pinned decode, EXIF transpose, border-trim variant, PDQ), blind its LSH keys, have
the platform relay the batch to the custodian, verify the batch proof under the manifest's key
and seal the bundle. ``VoucherLayer`` (pure) then puts the bundles into
``message.extensions["vouchers"]``. Messages without images carry nothing; images PDQ rates below
quality 50 (or that do not decode) carry dummy vouchers of the same size. The client never
learns whether an image matched.

Layer state (``core.layer_state["matching"]``, persisted with the device): the account's
matching key seed (``account_key``), optionally pinned ``trust`` roots, and the bundles waiting
for the next send (``pending``). Trust roots come from that state (``pin_trust``) or from the
JSON file named by ``FULCRUM_MATCHING_TRUST``; a manifest without them is refused.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Sequence
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
    ManifestTrust,
    PdqHash,
    finalize_image_vouchers,
    hash_image_bytes,
    prepare_hash_vouchers,
)
from fulcrum.matching.errors import ImageDecodeError, MatchingError
from fulcrum.wire.api import API_PREFIX
from fulcrum.wire.matching import VOUCHERS_EXTENSION, TrustRoots

if TYPE_CHECKING:
    from fulcrum.client.sdk import FulcrumClient
    from fulcrum.client.standard import LayerSet

NAME = "matching"
TRUST_ENV = "FULCRUM_MATCHING_TRUST"

ManifestCheck = Callable[[BankManifest], None]
# Extra checks a manifest must pass before use. The transparency-log issue appends one that
# raises ``ManifestError`` unless the manifest (``manifest.to_log_entry_fields()``) is included
# in the log under a verified checkpoint; until then a signature check is all there is.
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
                check(manifest)
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
