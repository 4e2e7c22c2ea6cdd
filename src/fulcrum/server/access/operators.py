"""Operator tokens for the access role: judges, authorities and platform operators.

``create_operator`` (run by ``fulcrum warrant operator``) stores only the SHA-256 of a fresh
bearer token. ``require(*roles)`` is the FastAPI dependency of the access routes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fulcrum.server.auth import new_token
from fulcrum.server.errors import forbidden, unauthorized
from fulcrum.server.state import relay_state
from fulcrum.store import Database
from fulcrum.store.access import AccessOperator

ROLES = ("judge", "authority", "operator")
bearer = HTTPBearer(
    auto_error=False, description="An operator token from `fulcrum warrant operator`"
)


@dataclass(frozen=True)
class Operator:
    name: str
    role: str


def create_operator(db: Database, name: str, role: str) -> str:
    """Create (or replace the token of) an operator; returns the token, stores its hash."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    token, digest = new_token()
    with db.write() as session:
        existing = session.get(AccessOperator, name)
        if existing is not None:
            existing.role, existing.token_hash = role, digest
        else:
            session.add(AccessOperator(name=name, role=role, token_hash=digest,
                                       created_at=int(time.time())))  # fmt: skip
    return token


def require(*roles: str) -> Callable[..., Operator]:
    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> Operator:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise unauthorized()
        digest = hashlib.sha256(credentials.credentials.encode("utf-8")).hexdigest()
        with relay_state(request.app).db.read() as session:
            row = session.query(AccessOperator).filter_by(token_hash=digest).one_or_none()
            found = None if row is None else Operator(row.name, row.role)
        if found is None:
            raise unauthorized("not an access operator token")
        if found.role not in roles:
            raise forbidden(f"this action needs the role {' or '.join(roles)}")
        request.state.account = f"{found.role}:{found.name}"
        return found

    return dependency
