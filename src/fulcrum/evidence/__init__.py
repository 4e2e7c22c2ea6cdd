"""Evidence bundles for authorities: a directory (or zip) a person can read in a browser and a court
can verify offline — transcript (HTML, PDF), JSON, CSV, attachments by hash, handover.xml,
provenance, a hash-chained custody log and a signed manifest with the log inclusion proof of its
``EvidenceExported`` entry. This package writes and reads files (it is an edge); see
docs/evidence.md.
"""

from fulcrum.evidence.bundle import (
    BundleError,
    BundleResult,
    record_export,
    write_bundle,
    zip_bundle,
)
from fulcrum.evidence.handover import render_handover
from fulcrum.evidence.records import (
    EvidenceAttachment,
    EvidenceCase,
    EvidenceMessage,
    EvidenceProvenance,
    LogProof,
    RequestProvenance,
)
from fulcrum.evidence.render import csv_safe, render_csv, render_html, render_json, render_pdf
from fulcrum.evidence.verify import (
    BundleFailure,
    TrustedKeys,
    VerificationReport,
    read_bundle,
    verify_bundle,
)

__all__ = [
    "BundleError",
    "BundleFailure",
    "BundleResult",
    "EvidenceAttachment",
    "EvidenceCase",
    "EvidenceMessage",
    "EvidenceProvenance",
    "LogProof",
    "RequestProvenance",
    "TrustedKeys",
    "VerificationReport",
    "csv_safe",
    "read_bundle",
    "record_export",
    "render_csv",
    "render_handover",
    "render_html",
    "render_json",
    "render_pdf",
    "verify_bundle",
    "write_bundle",
    "zip_bundle",
]
