"""Franking on the client: commit on send, verify on receive, keep bundles for reports.

Layer state (``core.layer_state["franking"]``, JSON):

* ``prev``: {conv: b64 commitment} of this device's last sent message per conversation;
* ``expected``: {"<sender>/<device> <conv>": b64 commitment} last verified per sender chain;
* ``bundles``: {msg_id: {"bundle": FrankingBundle JSON, "attachments": [AttachmentKey JSON]}}
  for received messages (kept for the report window, then pruned);
* ``sent``: {msg_id: {"k_f", "meta", "body", "c"}} for this device's own messages, completed
  with the relay's env and tag when a report needs them (``GET /v1/franking/sent/{id}``);
* ``failed`` / ``gaps``: counters of hidden messages and flagged chain gaps;
* ``pruned_at``: when expired bundles were last dropped (at most every ``PRUNE_EVERY_S``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fulcrum.client.layers import IncomingMessage, OutgoingMessage
from fulcrum.encoding import EncodingError, b64d, b64e
from fulcrum.franking import (
    DEFAULT_KEEP_WINDOW,
    GENESIS_PREV,
    AttachmentRef,
    FrankingBundle,
    FrankingError,
    FrankingMeta,
    ServerEnvelope,
    commit,
    commitment_matches,
    new_franking_key,
)
from fulcrum.franking.bundle import BUNDLE_VERSION
from fulcrum.franking.receive import meta_matches_env
from fulcrum.hazmat.symmetric import constant_time_equal, sha256
from fulcrum.wire.reports import FRANKING_ENV_KEY

if TYPE_CHECKING:
    from fulcrum.client.standard import LayerSet

NAME = "franking"
NOT_VERIFIED = "could not be verified (franking)"
PRUNE_EVERY_S = 3600.0  # pruning walks every kept bundle: not on every message


def _chain_key(sender: str, device: str, conv: str) -> str:
    return f"{sender}/{device} {conv}"


def _prune(state: dict[str, Any], now: float) -> None:
    if 0 <= now - float(state.get("pruned_at", -PRUNE_EVERY_S)) < PRUNE_EVERY_S:
        return
    state["pruned_at"] = now
    window = timedelta(days=float(state.get("window_days", DEFAULT_KEEP_WINDOW.days)))
    cutoff = int((datetime.fromtimestamp(now, UTC) - window).timestamp() * 1000)
    for bucket in ("bundles", "sent"):
        entries = state.get(bucket, {})
        for msg_id in [m for m, e in entries.items() if e.get("ts", cutoff) < cutoff]:
            del entries[msg_id]


class FrankingSendLayer:
    name = NAME

    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        header = message.header
        prev_by_conv: dict[str, str] = state.setdefault("prev", {})
        prev = b64d(prev_by_conv[header.conv]) if header.conv in prev_by_conv else GENESIS_PREV
        forward = message.extensions.get("forward_count", 0)
        meta = FrankingMeta(
            sender=header.sender,
            sender_device=header.sender_device,
            conv=header.conv,
            msg_id=b64d(header.msg_id, length=16),
            client_ts=header.client_ts,
            content_type=header.content_type,
            prev=prev,
            attachments=tuple(
                AttachmentRef(a.sha256_plain, a.size, a.mime, a.key_commit)
                for a in message.attachments
            ),
            forward_count=forward if isinstance(forward, int) and forward >= 0 else 0,
        )
        k_f = new_franking_key()
        c = commit(k_f, meta, message.body)
        k_f_text, meta_json, c_text = b64e(k_f), meta.to_json(), b64e(c)
        message.layers[NAME] = {"k_f": k_f_text, "meta": meta_json}
        message.commitment = c
        prev_by_conv[header.conv] = c_text
        state.setdefault("sent", {})[header.msg_id] = {
            "k_f": k_f_text,
            "meta": meta_json,  # never mutated: sharing the dict is safe
            "body": b64e(message.body),
            "c": c_text,
            "ts": int(message.now * 1000),
        }
        _prune(state, message.now)


class FrankingReceiveLayer:
    name = NAME

    def on_receive(self, message: IncomingMessage, state: dict[str, Any]) -> str | None:
        item = message.item
        try:
            layer = message.payload.layers[NAME]
            k_f = b64d(str(layer["k_f"]), length=32)
            meta = FrankingMeta.from_json(layer["meta"])
            env = ServerEnvelope.from_json(item.envelope[FRANKING_ENV_KEY])
            commitment = b64d(item.commitment or "", length=32)
            if item.franking is None:
                raise FrankingError("no franking tag")
            # Validates every part; kept below as the wire texts it was parsed from (strict,
            # canonical base64 and exact keys make them equal to ``bundle.to_json()``).
            FrankingBundle(
                message.body, meta, k_f, commitment, env, item.franking.kid, b64d(item.franking.tag)
            )
        except (KeyError, TypeError, EncodingError, FrankingError):
            state["failed"] = int(state.get("failed", 0)) + 1
            return NOT_VERIFIED
        expected_by_chain: dict[str, str] = state.setdefault("expected", {})
        chain = _chain_key(env.sender, env.sender_device, env.conv)
        expected = b64d(expected_by_chain[chain]) if chain in expected_by_chain else GENESIS_PREV
        # The content layer already checked each attachment ciphertext against its key
        # commitment (``open_attachment``); here the franked refs must match those keys.
        ok = commitment_matches(k_f, meta, message.body, commitment)
        ok &= meta_matches_env(meta, env)
        ok &= constant_time_equal(sha256(b64d(item.body)), env.ct_sha256)
        keys = message.payload.attachments
        ok &= len(keys) == len(meta.attachments)
        for key, ref in zip(keys, meta.attachments, strict=False):
            data = message.attachments.get(key.attachment_id, b"")
            ok &= constant_time_equal(key.key_commit, ref.key_commit)
            ok &= constant_time_equal(sha256(data), ref.sha256_plain)
            ok &= len(data) == ref.size and key.mime == ref.mime
        if not ok:
            state["failed"] = int(state.get("failed", 0)) + 1
            return NOT_VERIFIED
        gap = not constant_time_equal(meta.prev, expected)
        if gap:
            state["gaps"] = int(state.get("gaps", 0)) + 1
        expected_by_chain[chain] = b64e(commitment)
        state.setdefault("bundles", {})[item.msg_id] = {
            "bundle": {
                "v": BUNDLE_VERSION,
                "body": b64e(message.body),
                "meta": layer["meta"],
                "k_f": layer["k_f"],
                "c": item.commitment,
                "env": item.envelope[FRANKING_ENV_KEY],
                "kid": item.franking.kid,
                "tag": item.franking.tag,
            },
            "attachments": [k.to_json() for k in keys],
            "gap": gap,
            "ts": env.server_ts,
        }
        _prune(state, message.now)
        return None


def add_franking(layers: LayerSet) -> None:
    layers.send.append(FrankingSendLayer())
    layers.receive.append(FrankingReceiveLayer())
