"""The E2EE readiness gate on a running server: blocks new conversations without a passing
record, allows them with one, and honours (and logs) an operator override."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.integration.client.conftest import World

from fulcrum.client.transport import ApiError
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.server.readiness import SCOPE, ReadinessGate, gate_enabled, offline_log
from fulcrum.server.state import relay_state
from fulcrum.translog.entries import counts, parse_entry
from fulcrum.translog.entry_types import E2EEOverride, ReadinessRecord

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    srv = EmbeddedServer(tmp_path / "server").start()
    gate = relay_state(srv.app).features["readiness"]
    assert isinstance(gate, ReadinessGate)
    gate.enabled = True  # what production does by default
    yield srv
    srv.stop()


@pytest.fixture
async def world(server: EmbeddedServer, tmp_path: Path) -> AsyncIterator[World]:
    w = World(server, tmp_path / "homes")
    yield w
    await w.close()


def _record(passed: bool) -> ReadinessRecord:
    return ReadinessRecord(
        time=int(time.time()),
        component=SCOPE,
        version="test",
        passed=passed,
        report_digest=bytes(32),
        metrics=counts({"report_verification": 1000}),
    )


def _log(server: EmbeddedServer):  # type: ignore[no-untyped-def]
    return relay_state(server.app).features["translog"]


async def test_gate_blocks_without_and_with_failing_record_allows_passing(
    server: EmbeddedServer, world: World
) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await bob.sync()
    with pytest.raises(ApiError) as exc:
        await alice.send_text("bob", "hello")
    assert exc.value.status == 403 and exc.value.code == "e2ee_not_ready"
    _log(server).append(_record(False))
    with pytest.raises(ApiError) as exc:
        await alice.send_text("bob", "hello again")
    assert exc.value.code == "e2ee_not_ready" and "did not pass" in exc.value.message
    _log(server).append(_record(True))
    await alice.send_text("bob", "now it works")
    _log(server).append(_record(False))  # a later failing record closes new conversations...
    await alice.send_text("bob", "...but not this existing one")
    carol = await world.user("carol")
    with pytest.raises(ApiError):
        await carol.send_text("bob", "new conversation")


async def test_override_opens_the_gate_and_is_logged(server: EmbeddedServer, world: World) -> None:
    alice, _bob = await world.user("alice"), await world.user("bob")
    log = offline_log(server.settings.data_dir)  # what `fulcrum readiness override` does
    log.append(_record(False))
    now = int(time.time())
    log.append(
        E2EEOverride(
            time=now,
            override_id="ovr-test",
            scope=SCOPE,
            reason_code="incident response: evaluation pending",
            authorized_by="operator",
            expires_at=now + 3600,
        )
    )
    await alice.send_text("bob", "allowed under the override")
    log = _log(server)
    entries = [parse_entry(e) for e in log.entries(0, log.size())]
    assert any(isinstance(e, E2EEOverride) and e.override_id == "ovr-test" for e in entries)


def test_gate_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FULCRUM_E2EE_READINESS_GATE", raising=False)
    assert gate_enabled("production") and not gate_enabled("development")
    monkeypatch.setenv("FULCRUM_E2EE_READINESS_GATE", "on")
    assert gate_enabled("development")
    monkeypatch.setenv("FULCRUM_E2EE_READINESS_GATE", "off")
    assert not gate_enabled("production")
