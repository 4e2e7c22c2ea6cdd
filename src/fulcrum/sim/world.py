"""The simulated world of one seed: population, a week of traffic as compact arrays, and the
non-message metadata events (contact requests, accepts, declines, blocks) in time order.

Messages are columns (sender, target, time, media, forward count, planted event); a target >= 0 is
the recipient of a one-to-one message, a target < 0 is group ``-1 - target``. Planted harmful
sequences are added by ``fulcrum.sim.planted`` through ``WorldBuilder``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fulcrum.safety import (
    AccountCreated,
    AccountLinked,
    ContactAccepted,
    ContactRequested,
    LinkKind,
    SafetyEvent,
)
from fulcrum.sim.images import ImageSpec
from fulcrum.sim.params import DAY, HOUR, T0, Harm, SimParams
from fulcrum.sim.population import Population, Role


@dataclass
class PlantedEvent:
    event_id: int
    harm: Harm
    actor: int
    victims: list[int]
    start: float
    variant: str = ""


@dataclass
class MediaSend:
    message: int  # index into the message columns
    sender: int
    at: float
    spec: ImageSpec
    event: int  # planted event id, -1 for benign


@dataclass
class World:
    params: SimParams
    pop: Population
    sender: np.ndarray
    target: np.ndarray
    at: np.ndarray
    media: np.ndarray
    fwd: np.ndarray
    event: np.ndarray  # planted event id or -1
    batch: dict[int, str]  # message index -> forward batch id
    others: list[tuple[float, int, SafetyEvent]]  # (time, order, event), sorted
    events: list[PlantedEvent]
    media_sends: list[MediaSend]  # every planted image and the benign sample, in time order
    benign_media_total: int  # benign media items in the week (sampled or not)

    @property
    def messages(self) -> int:
        return len(self.sender)

    def conversation(self, i: int) -> str:
        s, t = int(self.sender[i]), int(self.target[i])
        if t < 0:
            return f"g{-1 - t}"
        a, b = (s, t) if s < t else (t, s)
        return f"d:u{a}:u{b}"

    def recipients(self, i: int) -> tuple[str, ...]:
        s, t = int(self.sender[i]), int(self.target[i])
        names = self.pop.names
        if t >= 0:
            return (names[t],)
        return tuple(names[m] for m in self.pop.groups[-1 - t] if m != s)


@dataclass
class WorldBuilder:
    params: SimParams
    pop: Population
    rng: np.random.Generator
    cols: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in ("s", "t", "at", "media", "fwd", "event")}
    )
    batches: list[str | None] = field(default_factory=list)
    images: list[ImageSpec | None] = field(default_factory=list)
    others: list[tuple[float, SafetyEvent]] = field(default_factory=list)
    events: list[PlantedEvent] = field(default_factory=list)
    created: set[int] = field(default_factory=set)

    def new_event(self, harm: Harm, actor: int, start: float, variant: str = "") -> PlantedEvent:
        ev = PlantedEvent(len(self.events), harm, actor, [], start, variant)
        self.events.append(ev)
        return ev

    def message(
        self,
        sender: int,
        target: int,
        at: float,
        event: int,
        *,
        image: ImageSpec | None = None,
        fwd: int = 0,
        batch: str | None = None,
        media: bool = False,
    ) -> None:
        for key, v in (("s", sender), ("t", target), ("at", at), ("event", event), ("fwd", fwd)):
            self.cols[key].append(v)
        self.cols["media"].append(float(media or image is not None))
        self.batches.append(batch)
        self.images.append(image)

    def other(self, at: float, ev: SafetyEvent) -> None:
        self.others.append((at, ev))

    def new_account(self, role: Role, age: int, country: str, created_at: float) -> int:
        i = self.pop.add_account(role, age, country, created_at)
        self.created.add(i)
        self.other(created_at, self._created(i))
        return i

    def _created(self, i: int) -> AccountCreated:
        p = self.pop
        return AccountCreated(p.names[i], float(p.created_at[i]), p.birth_year[i], p.country[i])

    def prehistory(self) -> None:
        """Account creation, legitimate connections (minors request adults: rule 1) and family
        links, all before the simulated week."""
        p = self.pop
        for i in range(p.size):
            if i not in self.created:
                self.other(float(p.created_at[i]), self._created(i))
        at = T0 - 30 * DAY
        for k, (a, b, _kind) in enumerate(p.edges):
            req, acc = (a, b) if p.recorded_minor(a) or not p.recorded_minor(b) else (b, a)
            t = at + k * 0.01
            self.other(t, ContactRequested(p.names[req], p.names[acc], t))
            self.other(t + 0.005, ContactAccepted(p.names[acc], p.names[req], t + 0.005))
        for a, b in p.family_links:
            self.other(at - DAY, AccountLinked(p.names[a], p.names[b], at - DAY, LinkKind.FAMILY))

    def new_contacts(self) -> None:
        """Legitimate first contacts during the week: adults befriend friends of friends, and
        bridge adults (coaches) reach out to minors of their classes (rule 1 refuses those)."""
        p, rng = self.pop, self.rng
        for d in range(self.params.days):
            for a in range(p.size):
                if p.role[a] not in (Role.REGULAR, Role.BRIDGE) or not p.neighbours[a]:
                    continue
                chance = 0.3 if p.role[a] is Role.BRIDGE else 0.03
                if rng.random() >= chance:
                    continue
                via = p.neighbours[a][int(rng.integers(len(p.neighbours[a])))]
                cands = [x for x in p.neighbours[via] if x != a and x not in p.neighbours[a]]
                if p.role[a] is Role.BRIDGE:
                    cands = [x for x in cands if p.minor[x]]
                elif not p.minor[a]:
                    cands = [x for x in cands if not p.minor[x]]
                if not cands:
                    continue
                b = cands[int(rng.integers(len(cands)))]
                t = T0 + d * DAY + float(rng.uniform(9, 21)) * HOUR
                self.other(t, ContactRequested(p.names[a], p.names[b], t))
                if rng.random() < 0.8:
                    self.other(t + HOUR, ContactAccepted(p.names[b], p.names[a], t + HOUR))

    def benign_traffic(self) -> dict[str, np.ndarray]:
        """Vectorised everyday traffic of the regular, bridge and sharer accounts."""
        p, prm, rng = self.pop, self.params, self.rng
        n = p.size
        talkers = np.array([r in (Role.REGULAR, Role.BRIDGE, Role.SHARER) for r in p.role])
        deg = np.array([len(x) for x in p.neighbours], dtype=np.int64)
        off = np.concatenate([[0], np.cumsum(deg)])
        flat = np.array([v for x in p.neighbours for v in x] or [0], dtype=np.int64)
        gdeg = np.array([len(x) for x in p.user_groups], dtype=np.int64)
        goff = np.concatenate([[0], np.cumsum(gdeg)])
        gflat = np.array([v for x in p.user_groups for v in x] or [0], dtype=np.int64)
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("s", "t", "at", "media", "fwd")}
        for d in range(prm.days):
            active = np.nonzero(talkers & (rng.random(n) < prm.daily_active))[0]
            s = np.repeat(active, rng.poisson(prm.msgs_per_active_day, len(active)))
            m = len(s)
            to_group = (rng.random(m) >= prm.one_to_one_share) & (gdeg[s] > 0)
            pick = np.floor(rng.random(m) * np.maximum(deg[s], 1)).astype(np.int64)
            rec = np.where(deg[s] > 0, flat[np.minimum(off[s] + pick, len(flat) - 1)], -1)
            gpick = np.floor(rng.random(m) * np.maximum(gdeg[s], 1)).astype(np.int64)
            grp = gflat[np.minimum(goff[s] + gpick, len(gflat) - 1)]
            target = np.where(to_group, -1 - grp, rec)
            keep = (target != -1) | to_group
            late = rng.random(m) < 0.04
            hours = np.where(late, 23 + rng.random(m) * 2, 8 + rng.random(m) * 14)
            fwd = np.where(
                rng.random(m) < prm.forward_share, np.minimum(rng.geometric(0.5, m), 8), 0
            )
            parts["s"].append(s[keep])
            parts["t"].append(target[keep])
            parts["at"].append((T0 + d * DAY + hours * HOUR)[keep])
            parts["media"].append((rng.random(m) < prm.media_share)[keep])
            parts["fwd"].append(fwd[keep])
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}

    def build(self, benign: dict[str, np.ndarray]) -> World:
        prm, rng = self.params, self.rng
        nb = len(benign["s"])
        c = self.cols
        sender = np.concatenate([benign["s"], np.array(c["s"], dtype=np.int64)]).astype(np.int64)
        target = np.concatenate([benign["t"], np.array(c["t"], dtype=np.int64)]).astype(np.int64)
        at = np.concatenate([benign["at"], np.array(c["at"], dtype=np.float64)])
        media = np.concatenate([benign["media"], np.array(c["media"], dtype=bool)]).astype(bool)
        fwd = np.concatenate([benign["fwd"], np.array(c["fwd"], dtype=np.int64)]).astype(np.int64)
        event = np.concatenate([np.full(nb, -1), np.array(c["event"], dtype=np.int64)])
        order = np.argsort(at, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        batch = {int(rank[nb + j]): b for j, b in enumerate(self.batches) if b is not None}
        sends: list[MediaSend] = []
        for j, spec in enumerate(self.images):
            if spec is not None:
                k = int(rank[nb + j])
                sends.append(
                    MediaSend(k, int(c["s"][j]), float(c["at"][j]), spec, int(c["event"][j]))
                )
        benign_media = np.nonzero(media[:nb])[0]
        sample = np.sort(
            rng.choice(benign_media, min(prm.sampled_media, len(benign_media)), replace=False)
        )
        for n_i, j in enumerate(sample.tolist()):
            base = n_i if n_i < 10 or rng.random() >= 0.1 else int(rng.integers(n_i))  # re-shares
            spec = ImageSpec("benign", prm.seed * 100_000 + base)
            sends.append(MediaSend(int(rank[j]), int(sender[j]), float(at[j]), spec, -1))
        sends.sort(key=lambda m: (m.at, m.message))
        others = sorted(self.others, key=lambda x: x[0])
        return World(
            prm,
            self.pop,
            sender[order],
            target[order],
            at[order],
            media[order],
            fwd[order],
            event[order],
            batch,
            [(t, k, ev) for k, (t, ev) in enumerate(others)],
            self.events,
            sends,
            len(benign_media),
        )
