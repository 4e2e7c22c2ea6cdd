from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fulcrum.demo.embedded import EmbeddedServer


@pytest.fixture
def log_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    # log-only tests count entries: no escrow policy (so no EpochKey entry), and no client SDK
    srv = EmbeddedServer(tmp_path / "server", roles=("relay", "log"), escrow=False).start()
    yield srv
    srv.stop()
