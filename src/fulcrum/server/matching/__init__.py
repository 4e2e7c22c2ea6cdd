"""Private matching on the platform: the voucher send hook, the matcher state and the client
endpoints (manifest, proxied evaluation).

Where the custodian lives: in this process when the app serves the ``custodian`` role too,
otherwise at ``FULCRUM_MATCHING_CUSTODIAN_URL`` (with ``FULCRUM_MATCHING_CUSTODIAN_TOKEN``, the
custodian's operator token). Every manifest the platform serves is appended to its transparency
log (``state.features["translog"]``) as a ``BankManifest`` entry, at publish when the custodian is
in-process, else on first fetch; ``/v1/matching/manifest/log`` serves the inclusion evidence
clients require. With neither, the feature is off: the endpoints answer 404
``matching_unavailable`` and vouchers are ignored. ``FULCRUM_MATCHING_MAX_IMAGES`` caps image
bundles (and evaluations) per account per day (default 2000); past it a send gets a typed 429
``voucher_flood``.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from fulcrum.server.matching.hook import VoucherHook, release
from fulcrum.server.matching.link import CustodianLink, InProcessCustodian, RemoteCustodian
from fulcrum.server.matching.manifest_log import ManifestLog
from fulcrum.server.matching.routes import router
from fulcrum.server.matching.service import DEFAULT_MAX_IMAGES, PlatformMatching
from fulcrum.server.state import RelayState
from fulcrum.server.translog import TransparencyLog
from fulcrum.wire.api import API_PREFIX

__all__ = ["ManifestLog", "PlatformMatching", "VoucherHook", "install", "release"]


def _log_of(state: RelayState) -> TransparencyLog | None:
    found = state.features.get("translog")
    return found if isinstance(found, TransparencyLog) else None


def install(app: FastAPI, state: RelayState) -> None:
    if "relay" not in state.settings.roles:
        return
    link: CustodianLink | None = None
    ttl = 0.0
    if "custodian" in state.settings.roles:
        from fulcrum.server.routes.custodian import custodian_state

        link = InProcessCustodian(lambda: custodian_state(app))
    elif url := os.environ.get("FULCRUM_MATCHING_CUSTODIAN_URL"):
        link = RemoteCustodian(url, os.environ.get("FULCRUM_MATCHING_CUSTODIAN_TOKEN", ""))
        ttl = 5.0
    app.include_router(router, prefix=API_PREFIX)
    if link is None:
        return
    limit = int(os.environ.get("FULCRUM_MATCHING_MAX_IMAGES", DEFAULT_MAX_IMAGES))
    manifest_log = ManifestLog(lambda: _log_of(state))
    matching = PlatformMatching(link, max_images=limit, manifest_ttl=ttl, manifest_log=manifest_log)
    state.features["matching"] = matching
    state.hooks.send.append(VoucherHook(matching))
