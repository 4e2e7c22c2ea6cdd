"""A witness run as its own process (``fulcrum witness serve``; see docs/operator-guide.md).

``WitnessStore`` keeps the witness's cosigning key and its ``WitnessState`` in a data directory;
``create_witness_app`` serves the C2SP tlog-witness ``add-checkpoint`` endpoint on top of the pure
``fulcrum.translog.Witness``. The state is written durably before a cosignature leaves.
"""

from fulcrum.witness.http import ADD_CHECKPOINT_PATH, create_witness_app, parse_add_checkpoint
from fulcrum.witness.store import WitnessStore

__all__ = ["ADD_CHECKPOINT_PATH", "WitnessStore", "create_witness_app", "parse_add_checkpoint"]
