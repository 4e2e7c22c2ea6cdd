"""Typed errors at the edges of the franking package.

Inside the crypto, failures are opaque (``fulcrum.hazmat.CryptoError``); verification results are
returned as verdicts, not raised. Exceptions here are for malformed input and misuse.
"""


class FrankingError(ValueError):
    """Base class for franking errors."""


class FrankingFormatError(FrankingError):
    """Bytes or fields are not in the canonical franking encoding."""


class TagKeyUnavailable(FrankingError):
    """The keyring holds no tag key for the current month: call ``TagKeyring.advance`` first."""


class ReportError(FrankingError):
    """An abuse report is malformed (not a verification failure: those are verdicts)."""


class AttestationError(FrankingError):
    """A report attestation is malformed or its signature does not verify."""
