"""Accountable lawful access: escrow fields, the trustee DKG, epoch keys and threshold opening.

Protocol code only: bytes and integers in, bytes and values out; no I/O and no clock. See
docs/escrow.md for the construction, the exact encodings and the residual risks.
"""

from fulcrum.escrow.context import EscrowContext, recipient_devices_hash
from fulcrum.escrow.dkg import DkgParameters, DkgParticipant, DkgResult, run_dkg
from fulcrum.escrow.dkg_messages import (
    Complaint,
    ComplaintResponse,
    DealerCommitment,
    DealerReveal,
    DealerShare,
    DkgMessage,
    decode_dkg_message,
    encode_dkg_message,
)
from fulcrum.escrow.epoch import (
    EpochKeyBundle,
    EpochKeySignature,
    lagrange_coefficients,
    sign_epoch_key_bundle,
    verify_epoch_key_bundle,
)
from fulcrum.escrow.errors import (
    BadPartialError,
    DkgError,
    EpochKeyBundleError,
    EscrowError,
    EscrowFieldError,
    EscrowOpenError,
    EscrowProofError,
    InsufficientPartialsError,
    OutOfScopeError,
    ShareDestroyedError,
)
from fulcrum.escrow.field import (
    FIELD_BYTES,
    EscrowField,
    create_escrow_field,
    escrow_field_bytes,
    open_escrow_field,
    parse_escrow_field,
    verify_escrow_field,
    verify_escrow_proof,
)
from fulcrum.escrow.partial import (
    DecryptionItem,
    TrusteePartial,
    combine_partials,
    combine_two_groups,
    issue_partials,
    joint_epoch_key,
    open_items,
    recover_shared_points,
    verify_partial,
)
from fulcrum.escrow.share import TrusteeShare, TrusteeShareStore

__all__ = [
    "FIELD_BYTES",
    "BadPartialError",
    "Complaint",
    "ComplaintResponse",
    "DealerCommitment",
    "DealerReveal",
    "DealerShare",
    "DecryptionItem",
    "DkgError",
    "DkgMessage",
    "DkgParameters",
    "DkgParticipant",
    "DkgResult",
    "EpochKeyBundle",
    "EpochKeyBundleError",
    "EpochKeySignature",
    "EscrowContext",
    "EscrowError",
    "EscrowField",
    "EscrowFieldError",
    "EscrowOpenError",
    "EscrowProofError",
    "InsufficientPartialsError",
    "OutOfScopeError",
    "ShareDestroyedError",
    "TrusteePartial",
    "TrusteeShare",
    "TrusteeShareStore",
    "combine_partials",
    "combine_two_groups",
    "create_escrow_field",
    "decode_dkg_message",
    "encode_dkg_message",
    "escrow_field_bytes",
    "issue_partials",
    "joint_epoch_key",
    "lagrange_coefficients",
    "open_escrow_field",
    "open_items",
    "parse_escrow_field",
    "recipient_devices_hash",
    "recover_shared_points",
    "run_dkg",
    "sign_epoch_key_bundle",
    "verify_epoch_key_bundle",
    "verify_escrow_field",
    "verify_escrow_proof",
    "verify_partial",
]
