"""Typed errors raised at the edges of the matching protocol."""


class MatchingError(ValueError):
    """Base class for every matching error."""


class ImageDecodeError(MatchingError):
    """The bytes are not an image the pinned decoder accepts."""


class VoucherFormatError(MatchingError):
    """A voucher bundle, evaluation request/response or tag table is not in the canonical form."""


class ManifestError(MatchingError):
    """A bank manifest is malformed, unsigned, signed by an unknown key or inconsistent."""


class EvaluationRejected(MatchingError):
    """The custodian's evaluation did not verify under the manifest's VOPRF key."""


class BankError(MatchingError):
    """A hash list or bank operation is invalid (bad hex, unknown entry, unknown source...)."""


class VoucherFloodError(MatchingError):
    """An account sent more voucher bundles in the rate window than the platform accepts."""
