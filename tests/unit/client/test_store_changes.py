"""Saves write what changed: journaled layer maps and replay set, checked against a reload."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.client.fixtures import new_core, open_home, receive, snapshot

from fulcrum.client.journaled import JournaledDict, JournaledSet

pytestmark = pytest.mark.unit

_dirs = itertools.count()


def test_large_layer_maps_and_the_replay_set_are_journaled(tmp_path: Path) -> None:
    core, state, _, _ = new_core(80)
    home = open_home(tmp_path / "h")
    home.save(core, state)
    bundles = core.layer_state["franking"]["bundles"]
    assert isinstance(bundles, JournaledDict) and isinstance(core.seen, JournaledSet)
    bundles["m000003"]["ts"] = -1  # in place, through a lookup
    del bundles["m000004"]
    receive(core, 80, "new")
    home.save(core, state)
    for key in list(bundles):  # a prune: iterating marks every entry
        if key < "m000010":
            bundles[key]["pruned"] = True
    core.seen.discard("bob/m000001")
    home.save(core, state)
    expected = snapshot(core, state)
    home.unlock()
    assert snapshot(*open_home(tmp_path / "h").load()) == expected


def test_a_journaled_map_saves_only_touched_entries(tmp_path: Path) -> None:
    core, state, _, _ = new_core(100)
    home = open_home(tmp_path / "h")
    home.save(core, state)
    assert home.log is not None
    before = home.log.size
    core.layer_state["franking"]["bundles"]["m000050"]["ts"] = 7
    home.save(core, state)
    assert 0 < home.log.size - before < 400  # one small record and a commit


ops = st.lists(
    st.tuples(
        st.sampled_from(["receive", "edit", "delete", "replace", "prune", "set", "unseen"]),
        st.integers(0, 150),
    ),
    max_size=12,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(ops, min_size=1, max_size=4))
def test_any_edit_sequence_reloads_to_the_same_state(
    tmp_path: Path, batches: list[list[tuple[str, int]]]
) -> None:
    core, state, _, _ = new_core(70)
    path = tmp_path / f"h{next(_dirs)}"
    home = open_home(path, compact_min_bytes=8192)
    home.save(core, state)
    n = 70
    for batch in batches:
        franking = core.layer_state["franking"]
        for op, i in batch:
            key = f"m{i:06d}"
            bundles = franking["bundles"]
            if op == "receive":
                receive(core, n, f"text {n}")
                n += 1
            elif op == "edit" and key in bundles:
                bundles[key]["ts"] = -i
            elif op == "delete":
                bundles.pop(key, None)
            elif op == "replace":
                franking["bundles"] = {k: dict(v) for k, v in list(bundles.items())[: i % 90]}
            elif op == "prune":
                for k in [k for k in bundles if k < key]:
                    del bundles[k]
            elif op == "set":
                franking[f"top{i % 3}"] = i if i % 2 else {"x": i}
            elif op == "unseen":
                core.seen.discard(f"bob/{key}")
        home.save(core, state)
    expected = snapshot(core, state)
    home.unlock()
    assert snapshot(*open_home(path).load()) == expected
