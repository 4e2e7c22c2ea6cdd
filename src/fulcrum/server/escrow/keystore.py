"""Per-trustee key stores: moved to ``fulcrum.trustee.keystore`` (a trustee process need not
import the platform's server to open its own keys); this name stays for existing callers."""

from fulcrum.trustee.keystore import TrusteeKeyStore

__all__ = ["TrusteeKeyStore"]
