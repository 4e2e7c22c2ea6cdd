"""Hazmat: the only place that touches raw primitives (cryptography, rbcl, pycryptodome).

Everything else in Fulcrum calls the named operations exported by the modules of this package.
Errors raised inside are deliberately opaque (``CryptoError``): callers add diagnostics at the edge.
"""

from fulcrum.hazmat.errors import CryptoError

__all__ = ["CryptoError"]
