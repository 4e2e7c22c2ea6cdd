"""The one opaque error that crypto code raises."""


class CryptoError(Exception):
    """A cryptographic check failed. Deliberately says nothing about which one."""
