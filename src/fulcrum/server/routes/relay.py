"""The relay role: accounts, key directory, store-and-forward messaging, push, attachments,
groups."""

from __future__ import annotations

from fastapi import APIRouter

from fulcrum.server.relay import accounts, attachments, groups, messages


def build_router() -> APIRouter:
    router = APIRouter()
    for part in (accounts, messages, attachments, groups):
        router.include_router(part.router)
    return router
