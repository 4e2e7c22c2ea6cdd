"""Private matching of known images: PDQ + LSH + VOPRF + threshold secret sharing.

No I/O: every function takes bytes and time and returns bytes or values. Roles:

* client  — ``prepare_image_vouchers`` / ``finalize_image_vouchers`` (fulcrum.matching.voucher)
* custodian — ``HashBank``, ``Custodian``, ``CustodianEvaluator`` (bank, custodian)
* platform — ``PlatformMatcher`` (platform)
"""

from fulcrum.matching.account import AccountMatchingKey, generation_at
from fulcrum.matching.bank import (
    AdmissionReport,
    BankEntry,
    HashBank,
    SourceListing,
    export_hash_list,
    parse_hash_list,
)
from fulcrum.matching.custodian import Custodian, CustodianEvaluator, EpochRelease, build_tag_table
from fulcrum.matching.errors import (
    BankError,
    EvaluationRejected,
    ImageDecodeError,
    ManifestError,
    MatchingError,
    VoucherFloodError,
    VoucherFormatError,
)
from fulcrum.matching.logged import (
    MATCHING_BANK_ID,
    LogKeys,
    ManifestInclusion,
    log_entry,
    source_signature_check,
    verify_logged,
)
from fulcrum.matching.lsh import MatchingParams, lsh_keys
from fulcrum.matching.manifest import BankManifest, ManifestTrust, merkle_root
from fulcrum.matching.pdq import PdqHash, hamming, hash_image_bytes
from fulcrum.matching.platform import (
    AccountState,
    BundleObservation,
    MatchPolicy,
    PlatformMatcher,
    ReviewItem,
    ThresholdReached,
    VerifiedMatch,
)
from fulcrum.matching.tagtable import TableEntry, TagTable
from fulcrum.matching.voucher import (
    PendingVouchers,
    finalize_image_vouchers,
    prepare_hash_vouchers,
    prepare_image_vouchers,
)
from fulcrum.matching.wire import VoucherBundle, bundle_bytes

__all__ = [
    "MATCHING_BANK_ID",
    "AccountMatchingKey",
    "AccountState",
    "AdmissionReport",
    "BankEntry",
    "BankError",
    "BankManifest",
    "BundleObservation",
    "Custodian",
    "CustodianEvaluator",
    "EpochRelease",
    "EvaluationRejected",
    "HashBank",
    "ImageDecodeError",
    "LogKeys",
    "ManifestError",
    "ManifestInclusion",
    "ManifestTrust",
    "MatchPolicy",
    "MatchingError",
    "MatchingParams",
    "PdqHash",
    "PendingVouchers",
    "PlatformMatcher",
    "ReviewItem",
    "SourceListing",
    "TableEntry",
    "TagTable",
    "ThresholdReached",
    "VerifiedMatch",
    "VoucherBundle",
    "VoucherFloodError",
    "VoucherFormatError",
    "build_tag_table",
    "bundle_bytes",
    "export_hash_list",
    "finalize_image_vouchers",
    "generation_at",
    "hamming",
    "hash_image_bytes",
    "log_entry",
    "lsh_keys",
    "merkle_root",
    "parse_hash_list",
    "prepare_hash_vouchers",
    "prepare_image_vouchers",
    "source_signature_check",
    "verify_logged",
]
