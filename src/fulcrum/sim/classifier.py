"""B0's content classifier for unknown harmful content: an ASSUMED recall and false-flag rate.

A simulation cannot measure a classifier: there is no simulated content to classify. B0 is
credited with catching each unknown-content harmful episode (grooming, sextortion, spam,
harassment) with probability ``classifier_recall`` an hour after its first message, and with
``classifier_fp_per_million`` false flags per million messages. Both are swept parameters.
"""

from __future__ import annotations

import numpy as np

from fulcrum.sim.detections import Detection, MechanismRun
from fulcrum.sim.params import HOUR, Harm, Mechanism
from fulcrum.sim.world import World


def run_classifier(world: World, rng: np.random.Generator) -> MechanismRun:
    prm = world.params
    run = MechanismRun(Mechanism.CLASSIFIER)
    for ev in world.events:
        hit = rng.random() < prm.classifier_recall
        if ev.harm is not Harm.KNOWN_MEDIA and hit:
            run.detections.append(
                Detection(
                    Mechanism.CLASSIFIER, ev.start + HOUR, ev.actor, ev.event_id, "content_match"
                )
            )
    false = int(rng.poisson(prm.classifier_fp_per_million * world.messages / 1e6))
    benign = np.nonzero(world.event < 0)[0]
    for i in rng.choice(benign, size=min(false, len(benign)), replace=False).tolist():
        run.detections.append(
            Detection(
                Mechanism.CLASSIFIER, float(world.at[i]), int(world.sender[i]), -1, "content_match"
            )
        )
    run.review_items = len(run.detections)
    run.facts = {"assumed_recall": prm.classifier_recall, "false_flags": false}
    return run
