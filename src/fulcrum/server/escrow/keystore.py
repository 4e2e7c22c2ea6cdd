"""Per-trustee key stores: one directory per trustee, outside the main database.

``<root>/<trustee>/identity.key`` holds the trustee's Ed25519 signing key (base64url seed),
``box.key`` its X25519 key that DKG shares are sealed to when the trustees run as separate
processes, and ``shares/<epoch>.share`` its share of each epoch key. Files are created 0600 in
0700 directories.
``destroy`` overwrites the share file with zeros, syncs, unlinks it and leaves a
``destroyed/<epoch>`` marker, so the epoch can never be loaded or re-imported. Nothing here logs or
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

    def destroy(self, epoch: int) -> bool:
        """Overwrite and delete the share; return False if it was already gone."""
        if self._marker(epoch).exists():
            return False
        path = self._share_path(epoch)
        if path.exists():
            size = path.stat().st_size
            with path.open("r+b") as f:
                f.write(bytes(size))
                f.flush()
                os.fsync(f.fileno())
            path.unlink()
        marker = self._marker(epoch)
        marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        marker.write_text("destroyed\n")
        return True
