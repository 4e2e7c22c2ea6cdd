"""Demo step: a small run of the safety evaluation harness (design note 09) and its headline
table — recall per harm under B0 (plaintext) and E1-E3 (E2EE), and safety retention vs B0."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fulcrum.sim.params import SimParams
from fulcrum.sim.report import headline_table
from fulcrum.sim.runner import evaluate

if TYPE_CHECKING:
    from fulcrum.demo.runner import DemoWorld

DEMO_PARAMS = SimParams(users=300, days=2, sampled_media=20, full_round_benign=2, tune=False)


async def step_simulation(world: DemoWorld) -> None:
    results = await asyncio.to_thread(evaluate, DEMO_PARAMS)
    print("  " + headline_table(results).replace("\n", "\n  "))
    m = results["metrics"]
    world.check(
        "the harness ran all four configurations", set(m["operations"]) == {"B0", "E1", "E2", "E3"}
    )
    world.check(
        "every genuine user report verified with franking",
        m["reports"]["verification_rate"] in (None, 1.0),
    )
    e3 = m["recall"].get("grooming", {}).get("E3", {}).get("value")
    world.check("metadata rules catch grooming-like sequences under E2EE", bool(e3))
    world.facts["simulation_elapsed_s"] = results["run"]["elapsed_s"]
    world.facts["simulation_known_media_item_retention"] = m["known_media_items"]["retention"]
