"""Typed server settings (environment variables prefixed ``FULCRUM_``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

KNOWN_ROLES = ("relay", "log", "review", "custodian", "trustee", "witness", "access")


class UnsafeSettings(ValueError):
    """A setting that is fine for development is refused in production."""


class ServerSettings(BaseSettings):
    """One server process. ``roles`` picks which routers the app mounts."""

    model_config = SettingsConfigDict(env_prefix="FULCRUM_", extra="forbid", frozen=True)

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("fulcrum-data")
    db_url: str | None = None  # default: sqlite:///<data_dir>/fulcrum.db
    roles: tuple[str, ...] = ("relay",)
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    queue_page_size: int = Field(default=100, ge=1, le=1000)
    db_pool_size: int = Field(default=20, ge=1, le=200)
    # NORMAL: a commit survives a server crash; FULL: also an OS crash or power loss (slower)
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    auth_cache_seconds: float = Field(default=30.0, ge=0)
    push_buffer: int = Field(default=1000, ge=1)
    # lawful access: how far the clear client_ts may be from server time, and the retrospective
    # retention window (0 = prospective only: nothing kept beyond delivery without a warrant)
    access_skew_seconds: int = Field(default=300, ge=1, le=86_400)
    access_retrospective_seconds: int = Field(default=0, ge=0, le=90 * 86_400)
    # routing metadata of delivered messages is deleted after this many days (reports must come
    # within it: clients keep franking bundles 30 days); housekeeping period, 0 = off
    metadata_retention_days: int = Field(default=30, ge=1, le=3650)
    housekeeping_seconds: float = Field(default=3600.0, ge=0, le=86_400)
    # transparency-log witnesses: remote ones as "vkey@url,..." and how many in-process ones
    log_witnesses: str = ""
    log_inprocess_witnesses: int = Field(default=3, ge=0, le=3)
    log_witness_timeout: float = Field(default=5.0, gt=0, le=120)
    # trustees run as their own processes: "index@url,..." (DKG share index), their operator token
    access_trustees: str = ""
    access_trustee_token: str = Field(default="", repr=False)
    access_trustee_timeout: float = Field(default=30.0, gt=0, le=300)
    debug: bool = False
    log_level: str = "INFO"

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'fulcrum.db').resolve()}"

    @model_validator(mode="after")
    def _check(self) -> ServerSettings:
        unknown = sorted(set(self.roles) - set(KNOWN_ROLES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; known: {list(KNOWN_ROLES)}")
        if not self.roles:
            raise ValueError("at least one role is needed")
        if self.environment == "production":
            self._refuse_unsafe()
        return self

    def _refuse_unsafe(self) -> None:
        if self.debug:
            raise UnsafeSettings("debug must be off in production")
        tmp = Path(tempfile.gettempdir()).resolve()
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite":
            db = url.database or ""
            if db in ("", ":memory:") or "mode=memory" in str(url):
                raise UnsafeSettings("an in-memory SQLite database loses every message on restart")
            if Path(db).resolve().is_relative_to(tmp):
                raise UnsafeSettings(f"SQLite database under the temp dir {tmp} in production")
        if self.data_dir.resolve().is_relative_to(tmp):
            raise UnsafeSettings(f"data_dir under the temp dir {tmp} in production")
        if url.password in ("postgres", "password", "changeme"):
            raise UnsafeSettings("a default database password in production")
