"""The custodian role (organisation O): banks on disk, per-epoch VOPRF key, signed manifests."""

from fulcrum.server.custodian.state import CustodianState, NoRelease, parse_hash_file

__all__ = ["CustodianState", "NoRelease", "parse_hash_file"]
