"""Operator actions on the review role (run against the server's database)."""

from __future__ import annotations

import time

from fulcrum.server.auth import new_token
from fulcrum.store import Database
from fulcrum.store.review import ReviewerDirectory


def create_reviewer(db: Database, name: str, role: str) -> str:
    """Create a reviewer account; returns its bearer token (only its hash is stored)."""
    token, digest = new_token()
    with db.write() as session:
        ReviewerDirectory(session).create(name, role, digest, time.time_ns() // 1_000_000)
    return token
