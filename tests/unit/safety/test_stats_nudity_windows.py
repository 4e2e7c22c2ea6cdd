"""Transparency counters, the on-device blur hook, and the sliding windows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fulcrum.safety import Action, NoDetector, RuleId, SkinToneDetector, blur_for_minor
from fulcrum.safety.windows import DistinctWindow, SlidingCount

from .world import DAY, World

pytestmark = pytest.mark.unit


def test_rule_stats_count_per_rule_action_and_day(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    world.send("bob", "amy")
    world.send("bob", "amy")
    world.send("bob", "amy", at=world.now + 2 * DAY)
    stats = world.engine.rule_stats(world.now, world.now)
    assert stats.get(RuleId.NO_FIRST_CONTACT, Action.REFUSE) == 2
    assert (
        world.engine.rule_stats(world.now, world.now + 2 * DAY).get(
            RuleId.NO_FIRST_CONTACT, Action.REFUSE
        )
        == 3
    )
    assert stats.to_json()["counts"] == {"R1-no-first-contact": {"refuse": 2}}


def test_decision_json_is_complete(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    [d] = world.send("bob", "amy")
    data = d.to_json()
    assert data["rule_id"] == "R1-no-first-contact"
    assert data["action"] == "refuse"
    assert data["subject"] == "bob"
    assert "explanation" in data


def _image(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.full((32, 32, 3), rgb, dtype=np.uint8)


def test_reference_skin_detector_and_blur_for_minors_only() -> None:
    skin, sky = _image((224, 172, 140)), _image((40, 90, 220))
    detector = SkinToneDetector()
    assert detector.score(skin) == 1.0
    assert detector.score(sky) == 0.0
    assert blur_for_minor(detector, skin, viewer_is_minor=True).blur
    assert not blur_for_minor(detector, sky, viewer_is_minor=True).blur
    assert not blur_for_minor(detector, skin, viewer_is_minor=False).blur
    assert not blur_for_minor(NoDetector(), skin, viewer_is_minor=True).blur
    assert detector.score(np.zeros((4, 4), dtype=np.uint8)) is None
    assert "score" not in repr(blur_for_minor(detector, skin, viewer_is_minor=True))


@given(st.lists(st.tuples(st.floats(0, 50), st.sampled_from("abcde")), max_size=60))
def test_windows_match_a_naive_count(steps: list[tuple[float, str]]) -> None:
    count, distinct = SlidingCount(10.0), DistinctWindow(10.0)
    seen: list[tuple[float, str]] = []
    t = 0.0
    for dt, key in steps:
        t += dt
        seen.append((t, key))
        live = [(s, k) for s, k in seen if s > t - 10.0]
        assert count.add(t) == len(live)
        assert distinct.add(t, key) == len({k for _, k in live})
        assert distinct.keys(t) == frozenset(k for _, k in live)
