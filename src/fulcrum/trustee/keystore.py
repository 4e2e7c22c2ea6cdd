"""Per-trustee key stores: one directory per trustee, outside the main database.

``<root>/<trustee>/identity.key`` holds the trustee's Ed25519 signing key (base64url seed),
``box.key`` its X25519 key that DKG shares are sealed to when the trustees run as separate
processes, and ``shares/<epoch>.share`` its share of each epoch key. Files are created 0600 in
0700 directories.
``windows/<epoch>.json`` (public) keeps the validity window the trustee agreed to at the end of
the epoch's DKG, which its own retention clock counts from; ``statements/<epoch>.json`` (public)
keeps its signed statement of destruction once the share is gone.
``destroy`` overwrites the share file with zeros, syncs, unlinks it and leaves a
``destroyed/<epoch>`` marker, so the epoch can never be loaded or re-imported. ``discard_unlogged``
wipes a share the same way WITHOUT the marker: only for a share whose epoch key never reached the
log (an aborted DKG), so that the trustee can take part in a fresh one. Nothing here logs or
prints a secret; reprs show the trustee name only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fulcrum.encoding import b64d, b64e
from fulcrum.escrow import ShareDestroyedError, TrusteeShare
from fulcrum.escrow.errors import EscrowError
from fulcrum.hazmat.box import BoxSecretKey
from fulcrum.hazmat.ristretto import Point, Scalar
from fulcrum.hazmat.signing import SigningKey


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class TrusteeKeyStore:
    """One trustee's identity key and epoch shares, in its own directory."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.name = name

    def __repr__(self) -> str:
        return f"TrusteeKeyStore({self.name})"

    def identity(self) -> SigningKey:
        path = self.directory / "identity.key"
        if not path.exists():
            _write_secret(path, b64e(SigningKey.generate().seed).encode())
        return SigningKey(b64d(path.read_text().strip(), length=32))

    def box_key(self) -> BoxSecretKey:
        """The X25519 key other trustees seal this trustee's DKG shares to (made on first use)."""
        path = self.directory / "box.key"
        if not path.exists():
            _write_secret(path, b64e(BoxSecretKey.generate().raw).encode())
        return BoxSecretKey(b64d(path.read_text().strip(), length=32))

    def _share_path(self, epoch: int) -> Path:
        return self.directory / "shares" / f"{epoch}.share"

    def _marker(self, epoch: int) -> Path:
        return self.directory / "destroyed" / str(epoch)

    def save_share(self, share: TrusteeShare) -> None:
        if self._marker(share.epoch).exists() or self._share_path(share.epoch).exists():
            raise EscrowError(f"{self.name} already held a share for epoch {share.epoch}")
        body = {
            "epoch": share.epoch,
            "index": share.index,
            "secret": b64e(share.secret.to_bytes()),
            "verification_key": b64e(share.verification_key.to_bytes()),
        }
        _write_secret(self._share_path(share.epoch), json.dumps(body).encode())

    def share(self, epoch: int) -> TrusteeShare:
        path = self._share_path(epoch)
        if self._marker(epoch).exists() or not path.exists():
            raise ShareDestroyedError(epoch)
        body = json.loads(path.read_bytes())
        return TrusteeShare(
            epoch=epoch,
            index=int(body["index"]),
            secret=Scalar.from_bytes(b64d(body["secret"], length=32)),
            verification_key=Point.from_bytes(b64d(body["verification_key"], length=32)),
        )

    def has_share(self, epoch: int) -> bool:
        return self._share_path(epoch).exists() and not self._marker(epoch).exists()

    def is_destroyed(self, epoch: int) -> bool:
        return self._marker(epoch).exists()

    def _wipe(self, epoch: int) -> None:
        path = self._share_path(epoch)
        if path.exists():
            size = path.stat().st_size
            with path.open("r+b") as f:
                f.write(bytes(size))
                f.flush()
                os.fsync(f.fileno())
            path.unlink()

    def discard_unlogged(self, epoch: int) -> bool:
        """Wipe an unlogged share (aborted DKG) and its window, leaving no marker: the caller
        must have checked that the epoch's key is not in the log. False if there was none."""
        if self._marker(epoch).exists() or not self._share_path(epoch).exists():
            return False
        self._wipe(epoch)
        self._public_path("windows", epoch).unlink(missing_ok=True)
        return True

    def _public_path(self, kind: str, epoch: int) -> Path:
        return self.directory / kind / f"{epoch}.json"

    def _write_public(self, kind: str, epoch: int, body: dict[str, object]) -> None:
        path = self._public_path(kind, epoch)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, sort_keys=True))
        tmp.replace(path)

    def _read_public(self, kind: str, epoch: int) -> dict[str, object] | None:
        path = self._public_path(kind, epoch)
        if not path.exists():
            return None
        body = json.loads(path.read_text())
        return body if isinstance(body, dict) else None

    def save_window(self, epoch: int, valid_from: int, valid_until: int) -> None:
        """The epoch's validity window (milliseconds) as agreed in its DKG (public)."""
        self._write_public("windows", epoch, {"valid_from": valid_from,
                                              "valid_until": valid_until})  # fmt: skip

    def window(self, epoch: int) -> tuple[int, int] | None:
        body = self._read_public("windows", epoch)
        if body is None:
            return None
        start, end = body.get("valid_from"), body.get("valid_until")
        if not isinstance(start, int) or not isinstance(end, int):
            return None
        return start, end

    def save_statement(self, epoch: int, body: dict[str, object]) -> None:
        """Keep the signed statement of destruction (public) so a repeat call returns it."""
        self._write_public("statements", epoch, body)

    def statement(self, epoch: int) -> dict[str, object] | None:
        return self._read_public("statements", epoch)

    def destroy(self, epoch: int) -> bool:
        """Overwrite and delete the share; return False if it was already gone."""
        if self._marker(epoch).exists():
            return False
        self._wipe(epoch)
        marker = self._marker(epoch)
        marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        marker.write_text("destroyed\n")
        return True
