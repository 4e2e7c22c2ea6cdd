"""Errors of the E2EE core."""


class E2EEError(Exception):
    """Base class for E2EE failures that callers handle (never shown with key material)."""


class DecryptionFailed(E2EEError):
    """A ciphertext could not be decrypted or authenticated. Deliberately unspecific."""


class ReplayedMessage(E2EEError):
    """A Megolm message index was already seen for this session (Megolm itself accepts replays)."""


class MissingSession(E2EEError):
    """No session exists to decrypt this message (e.g. keys were never shared with this device)."""


class MalformedPayload(DecryptionFailed):
    """A decrypted ratchet payload is not in a known encoding (version, lengths, fields)."""
