"""Run the production rules engine (``fulcrum.safety.SafetyEngine``) over every metadata event of
the week, in time order, and turn its decisions into detections.

Account flags are RESTRICT and QUEUE_REVIEW decisions about an account (rule 3); child-report
reviews (rule 7) are counted under reports, which feed them. First-contact and group refusals of
benign accounts are "legitimate contacts blocked" (the cost of rule 1 and of imperfect age data).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from fulcrum.safety import (
    Action,
    ContactRequested,
    Decision,
    InMemorySafetyStore,
    MessageSent,
    Reported,
    RuleId,
    SafetyEngine,
    SafetyEvent,
    default_policy,
)
from fulcrum.sim.detections import Detection, MechanismRun
from fulcrum.sim.params import T0, Mechanism
from fulcrum.sim.world import World

_REPORT_RULES = {RuleId.CHILD_REPORT}
_BLOCKING_RULES = {RuleId.NO_FIRST_CONTACT, RuleId.GROUP_ADD, RuleId.SUSPICIOUS_BLOCK}


def engine_for(fanout_day_threshold: int) -> SafetyEngine:
    base = default_policy()
    policy = replace(
        base,
        suspicious_adult=replace(base.suspicious_adult, fanout_day_threshold=fanout_day_threshold),
    )
    return SafetyEngine(InMemorySafetyStore(), policy)


def run_rules(
    world: World,
    reports: Sequence[Reported] = (),
    *,
    fanout_day_threshold: int = 5,
    progress: Callable[[int], None] | None = None,
) -> MechanismRun:
    engine = engine_for(fanout_day_threshold)
    pop, names = world.pop, world.pop.names
    index = {n: i for i, n in enumerate(names)}
    actor_event = {ev.actor: ev.event_id for ev in world.events}
    run = MechanismRun(Mechanism.RULES)
    blocked_pairs: set[tuple[int, int]] = set()
    harmful_refused = 0
    notices = 0
    flagged: set[tuple[int, str]] = set()

    def take(decisions: list[Decision], actor: int, harmful: bool, peer: int | None) -> None:
        nonlocal harmful_refused, notices
        for d in decisions:
            if d.action is Action.SAFETY_NOTICE:
                notices += 1
            elif d.action is Action.REFUSE and d.rule_id in _BLOCKING_RULES:
                if harmful or (actor in actor_event and pop.role[actor].value != "regular"):
                    harmful_refused += 1
                elif peer is not None:
                    blocked_pairs.add((actor, peer))
            if d.action not in (Action.RESTRICT, Action.QUEUE_REVIEW) or d.subject is None:
                continue
            if d.rule_id in _REPORT_RULES:
                continue
            subject = index.get(d.subject, -1)
            if (subject, d.rule_id.value) in flagged:
                continue
            flagged.add((subject, d.rule_id.value))
            if d.action is Action.QUEUE_REVIEW:
                run.review_items += 1
            run.detections.append(
                Detection(
                    Mechanism.RULES,
                    d.at,
                    subject,
                    actor_event.get(subject, -1),
                    "account_flag",
                    d.rule_id.value,
                )
            )

    others: list[tuple[float, int, SafetyEvent]] = list(world.others)
    others += [(r.at, len(others) + k, r) for k, r in enumerate(reports)]
    others.sort(key=lambda x: (x[0], x[1]))
    at, sender, target, media, fwd, event = (
        world.at,
        world.sender,
        world.target,
        world.media,
        world.fwd,
        world.event,
    )
    at_l, s_l, t_l = at.tolist(), sender.tolist(), target.tolist()
    m_l, f_l, e_l = media.tolist(), fwd.tolist(), event.tolist()
    groups = pop.groups
    o = 0
    n = len(at_l)
    for i in range(n):
        t_i = at_l[i]
        while o < len(others) and others[o][0] <= t_i:
            ev = others[o][2]
            o += 1
            actor, peer = _actor_peer(ev, index)
            take(engine.record(ev), actor, False, peer)
        s, t = s_l[i], t_l[i]
        if t >= 0:
            a, b = (s, t) if s < t else (t, s)
            conv = f"d:u{a}:u{b}"
            recips: tuple[str, ...] = (names[t],)
        else:
            conv = f"g{-1 - t}"
            recips = tuple(names[m] for m in groups[-1 - t] if m != s)
        msg = MessageSent(
            names[s],
            recips,
            conv,
            t_i,
            has_media=m_l[i],
            forward_count=f_l[i],
            is_group=t < 0,
            forward_batch=world.batch.get(i),
        )
        take(engine.check_message(msg), s, e_l[i] >= 0, t if t >= 0 else None)
        if progress is not None and i % 50_000 == 0:
            progress(i)
    while o < len(others):
        ev = others[o][2]
        o += 1
        actor, peer = _actor_peer(ev, index)
        take(engine.record(ev), actor, False, peer)
    end = T0 + world.params.days * 86_400
    run.facts = {
        "legit_contacts_blocked": len(blocked_pairs),
        "harmful_sends_refused": harmful_refused,
        "safety_notices": notices,
        "rule_stats": engine.rule_stats(T0, end - 1).to_json(),
    }
    return run


def _actor_peer(ev: SafetyEvent, index: dict[str, int]) -> tuple[int, int | None]:
    if isinstance(ev, ContactRequested):
        return index.get(ev.sender, -1), index.get(ev.recipient)
    if isinstance(ev, Reported):
        return index.get(ev.reporter, -1), None
    return -1, None
