"""Typed errors at the edge of the escrow package.

Inside the crypto the one opaque ``CryptoError`` is raised; these errors are what callers see. They
say which step failed (and, for trustees, who) but never which internal check or any secret.
"""

from __future__ import annotations


class EscrowError(ValueError):
    """Base class of every escrow error."""


class EscrowFieldError(EscrowError):
    """An escrow field or context is malformed (length, point or scalar encoding, fields)."""


class EscrowProofError(EscrowError):
    """An escrow field's proof does not bind it to the given context and epoch key."""


class OutOfScopeError(EscrowError):
    """A trustee refused an item whose context is outside the approved scope."""

    def __init__(self, item_index: int) -> None:
        super().__init__(f"item {item_index} is outside the approved scope")
        self.item_index = item_index


class DkgError(EscrowError):
    """The DKG was driven out of order, got a malformed message, or cannot finish."""


class EpochKeyBundleError(EscrowError):
    """An epoch key bundle is malformed, inconsistent or lacks enough trustee signatures."""


class InsufficientPartialsError(EscrowError):
    """Fewer valid trustee partials than the threshold."""


class BadPartialError(EscrowError):
    """One or more trustee partials failed verification; ``trustee_indices`` names them."""

    def __init__(self, trustee_indices: tuple[int, ...]) -> None:
        names = ", ".join(str(i) for i in trustee_indices)
        super().__init__(f"invalid partial decryption from trustee(s) {names}")
        self.trustee_indices = trustee_indices


class ShareDestroyedError(EscrowError):
    """The trustee's share for this epoch has been destroyed (or was never held)."""

    def __init__(self, epoch: int) -> None:
        super().__init__(f"no share held for epoch {epoch} (destroyed or never held)")
        self.epoch = epoch


class EscrowOpenError(EscrowError):
    """An item's escrow ciphertext did not open under the combined key."""

    def __init__(self, item_index: int) -> None:
        super().__init__(f"escrow field of item {item_index} did not open")
        self.item_index = item_index
