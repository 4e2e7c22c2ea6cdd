from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fulcrum.demo.embedded import EmbeddedServer


@pytest.fixture
def log_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    srv = EmbeddedServer(tmp_path / "server", roles=("relay", "log")).start()
    yield srv
    srv.stop()
