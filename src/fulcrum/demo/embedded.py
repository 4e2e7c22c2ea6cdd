"""Run the Fulcrum server in-process on a loopback port (demo, tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn

from fulcrum.server.app import create_app
from fulcrum.server.escrow import DEFAULT_POLICY, POLICY_FILE, EscrowPolicy
from fulcrum.server.settings import ServerSettings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    """A uvicorn server in a background thread, bound to 127.0.0.1 only.

    Escrow is on by default, as on every Fulcrum deployment: the data dir gets an escrow policy
    (``escrow_policy``, or ``DEFAULT_POLICY`` n=5, t=3 unless the data dir already has one), the
    in-process trustees run their DKG at start-up and the ``log`` role is served (clients verify
    the epoch key's inclusion in the log). ``escrow=False`` writes no policy; clients then
    refuse to send unless they run with the development opt-out ``FULCRUM_DEV_NO_ESCROW=1``.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        db_url: str | None = None,
        roles: tuple[str, ...] = ("relay", "log"),
        port: int | None = None,
        escrow: bool = True,
        escrow_policy: EscrowPolicy | None = None,
    ) -> None:
        policy_file = data_dir / "escrow" / POLICY_FILE
        if escrow_policy is None and escrow and not policy_file.exists():
            escrow_policy = DEFAULT_POLICY
        if escrow_policy is not None:  # in-process trustees run the DKG when the app starts
            policy_file.parent.mkdir(parents=True, exist_ok=True)
            policy_file.write_text(escrow_policy.to_toml())
        if policy_file.exists() and "log" not in roles:
            roles = (*roles, "log")
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
