"""Run the Fulcrum server in-process on a loopback port (demo, tests, benchmarks)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from fulcrum.server.app import create_app
from fulcrum.server.escrow import DEFAULT_POLICY, POLICY_FILE, EscrowPolicy
from fulcrum.server.loopback import LiveServer
from fulcrum.server.loopback import free_port as free_port
from fulcrum.server.settings import ServerSettings


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
        self.app = create_app(self.settings)
        self._live = LiveServer(self.app, port)
        self.port = self._live.port

    @property
    def url(self) -> str:
        return self._live.url

    def start(self, timeout: float = 20.0) -> EmbeddedServer:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._live.start(timeout)
        return self

    def stop(self) -> None:
        self._live.stop()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
