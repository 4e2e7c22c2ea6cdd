"""User reports, verified with the production franking code (``fulcrum.franking``).

Victims report a harmful episode at the swept per-victim rate; benign messages are reported by
mistake at a small rate, and a share of those are fabricated (the reporter alters the body to
frame the sender). Franking is sampled: every message that appears in a submitted report (the
chosen message and its context, ``report_context``) is committed by its sender (``commit``),
tagged by the relay (``tag`` under a ``TagKeyring``) and the report is checked by
``verify_report``; messages nobody reports are not franked. The same verdicts serve B0, whose
server holds the plaintext and can check a report against its copy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from fulcrum.franking import (
    GENESIS_PREV,
    AbuseReport,
    FrankingBundle,
    FrankingMeta,
    ReasonCode,
    ReportedMessage,
    ServerEnvelope,
    TagKeyring,
    commit,
    new_franking_key,
    report_context,
    tag,
    verify_report,
)
from fulcrum.hazmat.symmetric import sha256
from fulcrum.safety import Reported
from fulcrum.sim.detections import Detection, MechanismRun
from fulcrum.sim.params import HOUR, T0, Harm, Mechanism
from fulcrum.sim.world import World

CONTEXT = 5
_REASON = {
    Harm.GROOMING: ReasonCode.CHILD_SAFETY,
    Harm.SEXTORTION: ReasonCode.CHILD_SAFETY,
    Harm.SPAM: ReasonCode.SPAM,
    Harm.HARASSMENT: ReasonCode.HARASSMENT,
    Harm.KNOWN_MEDIA: ReasonCode.CHILD_SAFETY,
}


def _when(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


class Franker:
    """Franks the messages of one conversation window, as sender devices and the relay would."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.keyring, _ = TagKeyring().advance(_when(T0 - HOUR))

    def history(self, idx: list[int]) -> list[FrankingBundle]:
        w, names = self.world, self.world.pop.names
        prev: dict[str, bytes] = {}
        out = []
        for i in idx:
            s, t = int(w.sender[i]), int(w.target[i])
            conv = w.conversation(i)
            msg_id = sha256(f"sim/{w.params.seed}/msg/{i}".encode())[:16]
            body = f"placeholder {i}".encode()  # no chat text is ever simulated
            ms = int(float(w.at[i]) * 1000)
            meta = FrankingMeta(
                names[s], "d1", conv, msg_id, ms, "text/plain", prev.get(names[s], GENESIS_PREV)
            )
            k_f = new_franking_key()
            c = commit(k_f, meta, body)
            env = ServerEnvelope(
                names[s], "d1", conv, msg_id, ms, sha256(b"ct" + body), recipients=(names[t],)
            )
            kid, tg = tag(self.keyring, c, env, _when(float(w.at[i])))
            prev[names[s]] = c
            out.append(FrankingBundle(body, meta, k_f, c, env, kid, tg))
        return out


def _conversation_before(world: World, a: int, b: int, until: int) -> list[int]:
    s, t = world.sender[: until + 1], world.target[: until + 1]
    mask = ((s == a) & (t == b)) | ((s == b) & (t == a))
    found: list[int] = np.nonzero(mask)[0][-(CONTEXT + 1) :].tolist()
    return found


def run_reports(world: World, rng: np.random.Generator) -> tuple[MechanismRun, list[Reported]]:
    prm, names = world.params, world.pop.names
    franker = Franker(world)
    run = MechanismRun(Mechanism.REPORTS)
    feed: list[Reported] = []
    stats = {"genuine": 0, "genuine_verified": 0, "benign": 0, "benign_verified": 0}
    stats |= {"fabricated": 0, "fabricated_rejected": 0}
    harmful_idx = np.nonzero(world.event >= 0)[0]
    first_to: dict[tuple[int, int], int] = {}
    for i in harmful_idx.tolist():
        key = (int(world.event[i]), int(world.target[i]))
        first_to.setdefault(key, i)
    jobs: list[tuple[int, int, int, Harm | None, bool]] = []  # (msg, reporter, event, harm, fake)
    for ev in world.events:
        rate = prm.report_rates.get(ev.harm, 0.0)
        for v in ev.victims:
            first = first_to.get((ev.event_id, v))
            if first is not None and rng.random() < rate:
                jobs.append((first, v, ev.event_id, ev.harm, False))
    one_to_one = np.nonzero((world.event < 0) & (world.target >= 0))[0]
    n_benign = int(rng.poisson(prm.benign_report_rate * world.messages))
    n_fake = max(2, round(n_benign * prm.fabricated_report_share))  # always test framing
    picks = rng.choice(one_to_one, size=min(n_benign + n_fake, len(one_to_one)), replace=False)
    for k, i in enumerate(picks.tolist()):
        jobs.append((int(i), int(world.target[i]), -1, None, k >= n_benign))
    for k, (i, reporter, event, harm, fake) in enumerate(jobs):
        actor = int(world.sender[i])
        delay = float(rng.exponential(6 * HOUR))
        at = float(world.at[i]) + delay
        bundles = franker.history(_conversation_before(world, actor, reporter, i))
        chosen = bundles[-1]
        context = report_context(bundles, {chosen.msg_id}, CONTEXT)
        messages = [ReportedMessage(b) for b in context]
        if fake:  # framing attempt: the chosen message's body is altered after the fact
            messages[-1] = ReportedMessage(_altered(chosen))
        report = AbuseReport(
            f"r{prm.seed}-{k}",
            names[reporter],
            "d1",
            _REASON[harm] if harm is not None else ReasonCode.OTHER,
            bool(world.pop.minor[reporter]),
            (chosen.msg_id,),
            tuple(messages),
        )
        verdict = verify_report(report, franker.keyring, _when(at))
        kind = "fabricated" if fake else "genuine" if event >= 0 else "benign"
        stats[kind] += 1
        if fake:
            stats["fabricated_rejected"] += not verdict.verified
        else:
            stats[f"{kind}_verified"] += verdict.verified
        if not verdict.verified:
            continue
        run.review_items += 1
        run.detections.append(
            Detection(Mechanism.REPORTS, at, actor, event, "report", report.reason.value)
        )
        feed.append(
            Reported(
                names[reporter],
                names[actor],
                at,
                involves_child=report.involves_child,
                report_id=report.report_id,
                conversation=world.conversation(i),
            )
        )
    run.facts = stats
    return run, feed


def _altered(b: FrankingBundle) -> FrankingBundle:
    return FrankingBundle(b.body + b" (edited)", b.meta, b.k_f, b.c, b.env, b.kid, b.tag)


def week_end(world: World) -> datetime:
    return _when(T0) + timedelta(days=world.params.days)
