"""Planted events: known-image sharing (edited copies, a few items dominating), off-list
look-alikes, grooming-like and sextortion-like metadata sequences, spam bursts and harassment.

Only metadata and generated benign images: no chat text, no real abuse material. Each harmful
sequence is a ``PlantedEvent`` whose messages carry its id, so every detection can be traced to
the event (or to no event: a false positive).
"""

from __future__ import annotations

import numpy as np

from fulcrum.safety import Blocked, ContactAccepted, ContactDeclined, ContactRequested
from fulcrum.sim.images import EDIT_WEIGHTS, EDITS, ImageSpec
from fulcrum.sim.params import DAY, HOUR, T0, Harm
from fulcrum.sim.population import FAR_COUNTRIES, Role
from fulcrum.sim.world import WorldBuilder

BANK_ITEMS = 30  # admitted bank entries (two sources each)


def _zipf_item(rng: np.random.Generator) -> int:
    weights = 1.0 / np.arange(1, BANK_ITEMS + 1) ** 1.2  # a few items dominate
    return int(rng.choice(BANK_ITEMS, p=weights / weights.sum()))


def _edit(rng: np.random.Generator) -> str:
    w = np.array(EDIT_WEIGHTS, dtype=float)
    return EDITS[int(rng.choice(len(EDITS), p=w / w.sum()))]


def plant_all(b: WorldBuilder) -> None:
    counts = b.params.planted_counts()
    _sharers(b, counts["sharers"])
    _lookalikes(b, counts["lookalike_senders"])
    _groomers(b, counts["groomers"])
    _sextortion(b, counts["sextortion"])
    _spammers(b, counts["spammers"])
    _harassers(b, counts["harassers"])


def _week_time(b: WorldBuilder, lo: float = 0.0) -> float:
    return T0 + lo + float(b.rng.uniform(0, b.params.days * DAY - lo))


def _sharers(b: WorldBuilder, n: int) -> None:
    rng, pop = b.rng, b.pop
    adults = [i for i in range(pop.size) if not pop.minor[i] and pop.role[i] is Role.REGULAR]
    ring = [
        b.new_account(Role.SHARER, int(rng.integers(20, 60)), "GB", T0 - 400 * DAY)
        for _ in range(n)
    ]
    for k, a in enumerate(ring):
        for off in (1, 2):
            if n > off:
                pop.connect(a, ring[(k + off) % n], "adult")
        for friend in rng.choice(adults, size=min(3, len(adults)), replace=False).tolist():
            pop.connect(a, int(friend), "adult")
    for a in ring:
        ev = b.new_event(Harm.KNOWN_MEDIA, a, T0)
        images = int(min(30, 1 + rng.geometric(0.14)))
        times = sorted(_week_time(b) for _ in range(images))
        ev.start = times[0]
        for t in times:
            to = ring[int(rng.integers(n))] if n > 1 else adults[0]
            if to == a:
                to = ring[(ring.index(a) + 1) % n]
            ev.victims.append(to)
            b.message(a, to, t, ev.event_id, image=ImageSpec("bank", _zipf_item(rng), _edit(rng)))


def _lookalikes(b: WorldBuilder, n: int) -> None:
    rng, pop = b.rng, b.pop
    senders = [i for i in range(pop.size) if pop.role[i] is Role.REGULAR and pop.neighbours[i]]
    for k, a in enumerate(rng.choice(senders, size=min(n, len(senders)), replace=False).tolist()):
        for j in range(int(rng.integers(2, 6))):
            to = pop.neighbours[a][int(rng.integers(len(pop.neighbours[a])))]
            spec = ImageSpec("lookalike", 1000 * (k + 1) + int(rng.integers(BANK_ITEMS)) + j * 0)
            b.message(a, to, _week_time(b), -1, image=spec)


def _minor_targets(b: WorldBuilder, actor: int, k: int, min_age: int = 10) -> list[int]:
    pop, rng = b.pop, b.rng
    pool = [
        i
        for i in range(pop.size)
        if pop.minor[i] and pop.age[i] >= min_age and actor not in pop.neighbours[i]
    ]
    return [int(x) for x in rng.choice(pool, size=min(k, len(pool)), replace=False)]


def _groomers(b: WorldBuilder, n: int) -> None:
    rng = b.rng
    for _ in range(n):
        new = rng.random() < 0.4
        far = rng.random() < 0.3
        created = T0 - (rng.uniform(0, 5) if new else rng.uniform(60, 900)) * DAY
        country = FAR_COUNTRIES[int(rng.integers(len(FAR_COUNTRIES)))] if far else "GB"
        g = b.new_account(Role.GROOMER, int(rng.integers(22, 60)), country, created)
        u = rng.random()
        variant, k, span = (
            ("fast", int(rng.integers(6, 13)), 0.8 * DAY)
            if u < 0.5
            else ("medium", int(rng.integers(5, 9)), 4 * DAY)
            if u < 0.8
            else ("slow", int(rng.integers(2, 5)), 6 * DAY)
        )
        start = T0 + float(rng.uniform(0, max(HOUR, (b.params.days - 1) * DAY - span)))
        ev = b.new_event(Harm.GROOMING, g, start, variant)
        for m in _minor_targets(b, g, k):
            t = start + float(rng.uniform(0, span))
            ev.victims.append(m)
            names = b.pop.names
            b.other(t, ContactRequested(names[g], names[m], t))
            b.message(g, m, t + 60, ev.event_id)
            if rng.random() < 0.15:  # the minor is talked into requesting; the adult accepts
                t2 = t + float(rng.uniform(1, 12)) * HOUR
                b.other(t2, ContactRequested(names[m], names[g], t2))
                b.other(t2 + 30, ContactAccepted(names[g], names[m], t2 + 30))
                for j in range(int(rng.integers(8, 25))):
                    late = (
                        T0
                        + (int((t2 - T0) // DAY) + 1 + j // 6) * DAY
                        - float(rng.uniform(0.2, 2.5) * HOUR)
                    )
                    b.message(g, m, max(late, t2 + 60 + j), ev.event_id, media=j % 7 == 6)
            elif rng.random() < 0.5:
                t3 = t + float(rng.uniform(0.5, 10)) * HOUR
                b.other(t3, ContactDeclined(names[m], names[g], t3))


def _sextortion(b: WorldBuilder, n: int) -> None:
    rng = b.rng
    for _ in range(n):
        start = T0 + float(rng.uniform(0, max(HOUR, (b.params.days - 1) * DAY)))
        country = FAR_COUNTRIES[int(rng.integers(len(FAR_COUNTRIES)))]
        x = b.new_account(
            Role.SEXTORTION, int(rng.integers(20, 40)), country, start - rng.uniform(1, 4) * DAY
        )
        ev = b.new_event(Harm.SEXTORTION, x, start)
        names = b.pop.names
        for m in _minor_targets(b, x, int(rng.integers(3, 9)), min_age=13):
            t = start + float(rng.uniform(0, 30)) * HOUR
            ev.victims.append(m)
            b.other(t, ContactRequested(names[x], names[m], t))
            for j in range(int(rng.integers(3, 8))):
                b.message(x, m, t + 60 * (j + 1), ev.event_id, media=j in (1, 2))
            if rng.random() < 0.3:
                b.other(t + 2 * HOUR, Blocked(names[m], names[x], t + 2 * HOUR))


def _spammers(b: WorldBuilder, n: int) -> None:
    rng, pop = b.rng, b.pop
    adults = [i for i in range(pop.size) if not pop.minor[i] and pop.role[i] is Role.REGULAR]
    for k in range(n):
        start = T0 + float(rng.uniform(0, max(HOUR, (b.params.days - 1) * DAY)))
        s = b.new_account(Role.SPAMMER, 30, "GB", start - DAY)
        ev = b.new_event(Harm.SPAM, s, start)
        victims = rng.choice(
            adults, size=min(int(rng.integers(40, 150)), len(adults)), replace=False
        )
        for j, v in enumerate(victims.tolist()):
            ev.victims.append(int(v))
            fwd = 1 + j // 20
            b.message(s, int(v), start + j * 20.0, ev.event_id, fwd=fwd, batch=f"sp{k}-{j // 5}")


def _harassers(b: WorldBuilder, n: int) -> None:
    rng, pop = b.rng, b.pop
    cands = [
        i
        for i in range(pop.size)
        if not pop.minor[i] and pop.role[i] is Role.REGULAR and pop.neighbours[i]
    ]
    for h in rng.choice(cands, size=min(n, len(cands)), replace=False).tolist():
        v = pop.neighbours[h][int(rng.integers(len(pop.neighbours[h])))]
        start = T0 + float(rng.uniform(0, max(HOUR, (b.params.days - 2) * DAY)))
        ev = b.new_event(Harm.HARASSMENT, h, start)
        ev.victims.append(v)
        for j in range(int(rng.integers(20, 60))):
            b.message(h, v, start + j * float(rng.uniform(5, 60)) * 60, ev.event_id)
        if rng.random() < 0.2:
            t = start + 6 * HOUR
            b.other(t, Blocked(pop.names[v], pop.names[h], t))
