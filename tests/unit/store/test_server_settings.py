from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from pydantic import ValidationError

from fulcrum.server.settings import ServerSettings

pytestmark = pytest.mark.unit


def test_defaults_are_development_sqlite(tmp_path: Path):
    s = ServerSettings(data_dir=tmp_path)
    assert s.environment == "development" and s.roles == ("relay",)
    assert s.database_url == f"sqlite:///{tmp_path.resolve() / 'fulcrum.db'}"
    assert s.max_attachment_bytes == 25 * 1024 * 1024


def test_env_prefix(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FULCRUM_QUEUE_PAGE_SIZE", "7")
    assert ServerSettings().queue_page_size == 7


@pytest.mark.parametrize(
    "values",
    [
        {"debug": True, "db_url": "postgresql+psycopg://u:secretpw@db/f", "data_dir": "/srv/f"},
        {"db_url": f"sqlite:///{tempfile.gettempdir()}/x.db", "data_dir": "/srv/f"},
        {"db_url": "sqlite://", "data_dir": "/srv/f"},
        {"data_dir": tempfile.gettempdir()},
        {"db_url": "postgresql+psycopg://u:postgres@db/f", "data_dir": "/srv/f"},
    ],
)
def test_production_refuses_unsafe(values):
    with pytest.raises(ValidationError):
        ServerSettings(environment="production", **values)


def test_production_accepts_safe():
    s = ServerSettings(
        environment="production", db_url="postgresql+psycopg://u:pw-long@db/f", data_dir="/srv/f"
    )
    assert s.environment == "production"


def test_unknown_role_refused():
    with pytest.raises(ValidationError):
        ServerSettings(roles=("relay", "nonsense"))
