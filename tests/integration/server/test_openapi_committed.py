"""The committed docs/openapi.json must equal what the app serves (regenerate with
``python scripts/export_openapi.py``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def _exporter():
    spec = importlib.util.spec_from_file_location(
        "export_openapi", ROOT / "scripts/export_openapi.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_openapi_is_current():
    exporter = _exporter()
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == exporter.render(exporter.current_openapi()), (
        "docs/openapi.json is stale: run python scripts/export_openapi.py"
    )


def test_operation_ids_are_stable_names():
    doc = json.loads((ROOT / "docs" / "openapi.json").read_text())
    ids = [op["operationId"] for path in doc["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert {"create_account", "send_message", "fetch_queue", "ack_queue"} <= set(ids)
    # every 4xx documented is the typed ErrorBody
    for path in doc["paths"].values():
        for op in path.values():
            for status, resp in op["responses"].items():
                if status.startswith("4"):
                    # text/plain routes (the log checkpoint) document the same typed body
                    refs = [c["schema"]["$ref"] for c in resp["content"].values()]
                    assert refs, status
                    assert all(ref.endswith("/ErrorBody") for ref in refs)
