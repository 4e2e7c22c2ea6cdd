"""Run the Fulcrum server in-process on a loopback port (demo, tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn

from fulcrum.server.app import create_app
from fulcrum.server.escrow import POLICY_FILE, EscrowPolicy
from fulcrum.server.settings import ServerSettings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    """A uvicorn server in a background thread, bound to 127.0.0.1 only."""

    def __init__(
        self,
        data_dir: Path,
        *,
        db_url: str | None = None,
        roles: tuple[str, ...] = ("relay",),
        port: int | None = None,
        escrow_policy: EscrowPolicy | None = None,
    ) -> None:
        if escrow_policy is not None:  # in-process trustees run the DKG when the app starts
            policy_file = data_dir / "escrow" / POLICY_FILE
            policy_file.parent.mkdir(parents=True, exist_ok=True)
            policy_file.write_text(escrow_policy.to_toml())
        self.settings = ServerSettings(data_dir=data_dir, db_url=db_url, roles=roles)
        self.port = port or free_port()
        self.app = create_app(self.settings)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fulcrum-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> EmbeddedServer:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("embedded server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
