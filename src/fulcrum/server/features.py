"""Safety and access features installed into every app: franking, minor protection, media
matching, transparency log, escrow and warrants.

Each feature lives in its own package and exposes ``install(app, state) -> None``, which appends
its hooks to ``state.hooks``, mounts its routers (under ``API_PREFIX``) and keeps its state in
``state.features[<name>]``. Add a feature by appending its installer to ``INSTALLERS``; the order
is the order its send hooks run in.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from fulcrum.server.state import RelayState

Installer = Callable[[FastAPI, RelayState], None]

INSTALLERS: list[Installer] = []


def install_features(app: FastAPI, state: RelayState) -> None:
    for install in INSTALLERS:
        install(app, state)


from fulcrum.server.safety import install as install_safety  # noqa: E402

INSTALLERS.append(install_safety)

from fulcrum.server.franking import install as install_franking  # noqa: E402

INSTALLERS.append(install_franking)

from fulcrum.server.matching import install as install_matching  # noqa: E402

INSTALLERS.append(install_matching)

from fulcrum.server.translog import install as install_translog  # noqa: E402

INSTALLERS.append(install_translog)

from fulcrum.server.escrow import install as install_escrow  # noqa: E402

INSTALLERS.append(install_escrow)

from fulcrum.server.readiness import install as install_readiness  # noqa: E402

INSTALLERS.append(install_readiness)

from fulcrum.server.access import install as install_access  # noqa: E402

INSTALLERS.append(install_access)
