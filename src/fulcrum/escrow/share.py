"""A trustee's secret share of an epoch key, and the store that can destroy it."""

from __future__ import annotations

from dataclasses import dataclass, field

from fulcrum.escrow.errors import EscrowError, ShareDestroyedError
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import Point, Scalar, base_mul


@dataclass(frozen=True)
class TrusteeShare:
    """Trustee ``index``'s share ``x_{e,j}`` of epoch ``epoch`` and its key ``Y_{e,j} = x·G``."""

    epoch: int
    index: int
    secret: Scalar = field(repr=False)
    verification_key: Point

    def __post_init__(self) -> None:
        if self.index < 1:
            raise EscrowError("trustee indices start at 1")
        if base_mul(self.secret) != self.verification_key:
            raise EscrowError("share does not match its verification key")


class TrusteeShareStore:
    """A trustee's shares by epoch. ``destroy(epoch)`` wipes that epoch's share for good.

    The secret is kept in a ``bytearray`` that ``destroy`` overwrites with zeros before dropping it.
    Python cannot promise that no other copy lingers in memory (a ``TrusteeShare`` handed out
    earlier, the allocator), so a persistent store built on this must also delete and overwrite its
    own copy; share deletion cannot be proven to outsiders either way.
    """

    def __init__(self) -> None:
        self._secrets: dict[int, bytearray] = {}
        self._meta: dict[int, tuple[int, Point]] = {}
        self._destroyed: set[int] = set()

    def add(self, share: TrusteeShare) -> None:
        if share.epoch in self._secrets or share.epoch in self._destroyed:
            raise EscrowError(f"a share for epoch {share.epoch} was already held")
        self._secrets[share.epoch] = bytearray(share.secret.to_bytes())
        self._meta[share.epoch] = (share.index, share.verification_key)

    def share(self, epoch: int) -> TrusteeShare:
        """The share for ``epoch``; ``ShareDestroyedError`` once destroyed or if never held."""
        secret = self._secrets.get(epoch)
        if secret is None:
            raise ShareDestroyedError(epoch)
        index, key = self._meta[epoch]
        try:
            scalar = Scalar.from_bytes(bytes(secret))
        except CryptoError as exc:  # pragma: no cover - the bytearray is private
            raise ShareDestroyedError(epoch) from exc
        return TrusteeShare(epoch=epoch, index=index, secret=scalar, verification_key=key)

    def destroy(self, epoch: int) -> None:
        """Overwrite and forget the epoch's share. Idempotent."""
        secret = self._secrets.pop(epoch, None)
        if secret is not None:
            secret[:] = bytes(len(secret))
        self._meta.pop(epoch, None)
        self._destroyed.add(epoch)

    def is_destroyed(self, epoch: int) -> bool:
        return epoch in self._destroyed

    def epochs(self) -> tuple[int, ...]:
        return tuple(sorted(self._secrets))

    def __repr__(self) -> str:
        return f"TrusteeShareStore(epochs={self.epochs()}, destroyed={sorted(self._destroyed)})"
