"""custody.jsonl: hash-chained, Ed25519-signed chain-of-custody events, one canonical JSON a line.

Each event is ``{"seq", "prev", "time", "event", "actor", "detail", "key", "sig"}``; ``prev`` is
the SHA-256 (hex) of the previous line's bytes (64 zeros for the first); ``sig`` signs
``domain_message("fulcrum/evidence/custody/v1", canonical JSON of the event without "sig")``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json, domain_message
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.signing import SigningKey, VerifyKey
from fulcrum.hazmat.symmetric import sha256

CUSTODY_DOMAIN = "fulcrum/evidence/custody/v1"
GENESIS = "0" * 64


def _message(body: dict[str, object]) -> bytes:
    return domain_message(CUSTODY_DOMAIN, canonical_json(body))


def custody_line(
    prev_line: bytes | None, *, seq: int, time: int, event: str, actor: str, detail: str,
    key: SigningKey,
) -> bytes:  # fmt: skip
    body: dict[str, object] = {
        "seq": seq,
        "prev": GENESIS if prev_line is None else sha256(prev_line).hex(),
        "time": time,
        "event": event,
        "actor": actor,
        "detail": detail,
        "key": b64e(key.public_key().raw),
    }
    return canonical_json({**body, "sig": b64e(key.sign(_message(body)))})


@dataclass(frozen=True)
class CustodyCheck:
    count: int
    heads: tuple[str, ...]  # SHA-256 hex of each line, in order
    problems: tuple[tuple[str, str], ...]  # (check, detail)


def check_custody(data: bytes, trusted: frozenset[bytes]) -> CustodyCheck:
    """Verify the chain, each signature and that each signer is trusted."""
    problems: list[tuple[str, str]] = []
    heads: list[str] = []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    else:
        problems.append(("format", "file must end with a newline"))
    prev = GENESIS
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or canonical_json(obj) != line:
                raise ValueError("not canonical JSON")
            sig = b64d(obj.pop("sig"), length=64)
            key = b64d(obj["key"], length=32)
        except (ValueError, KeyError, TypeError, EncodingError) as exc:
            problems.append(("format", f"line {i + 1}: {exc}"))
            break
        if obj.get("seq") != i or obj.get("prev") != prev:
            problems.append(("chain", f"line {i + 1} does not continue the chain"))
        if key not in trusted:
            problems.append(("signer", f"line {i + 1} is signed by an untrusted key"))
        try:
            VerifyKey(key).verify(sig, _message(obj))
        except CryptoError:
            problems.append(("signature", f"line {i + 1} signature does not verify"))
        prev = sha256(line).hex()
        heads.append(prev)
    return CustodyCheck(len(heads), tuple(heads), tuple(problems))
