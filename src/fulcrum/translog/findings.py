"""What an auditor can find wrong with a log: one finding per problem, with where it was seen."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FindingKind(Enum):
    # Checkpoints and the tree
    BAD_CHECKPOINT = "bad_checkpoint"  # malformed, wrong origin, bad or missing log signature
    QUORUM_NOT_MET = "quorum_not_met"  # too few valid witness cosignatures
    ROOT_MISMATCH = "root_mismatch"  # mirrored entries do not hash to the checkpoint root
    SPLIT_VIEW = "split_view"  # two signed roots for one size
    ROLLBACK = "rollback"  # a smaller checkpoint after a larger one
    INCONSISTENT = "inconsistent"  # consistency proof between checkpoints fails
    INCOMPLETE_MIRROR = "incomplete_mirror"  # checkpoint beyond the mirrored entries (unchecked)
    MALFORMED_ENTRY = "malformed_entry"  # leaf bytes are not a valid canonical entry
    # Entry policy
    ACCESS_WITHOUT_WARRANT = "access_without_warrant"
    ACCESS_WITHOUT_QUORUM = "access_without_quorum"
    ACCESS_AFTER_EXPIRY = "access_after_expiry"
    QUOTA_EXCEEDED = "quota_exceeded"
    MANIFEST_NOT_COSIGNED = "manifest_not_cosigned"
    REPORT_MISMATCH = "report_mismatch"


#: Findings that only say the audit could not check everything.
INFORMATIONAL = frozenset({FindingKind.INCOMPLETE_MIRROR})


@dataclass(frozen=True)
class Finding:
    """One problem; ``checkpoint`` is a position in the observed sequence, ``entry`` a leaf."""

    kind: FindingKind
    detail: str
    checkpoint: int | None = None
    entry: int | None = None
