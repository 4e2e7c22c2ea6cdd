"""The simulated population and its social graph (design note 09).

Households (adults + 1-3 minors, cliques: the legitimate adult-minor ties), school classes among
minors (relaxed caveman), the adult graph (Holme-Kim power-law cluster), "bridge" adults with many
legitimate minor ties (coaches, relatives: the hard negatives) and imperfect age data (a share of
accounts with a wrong or missing birth year). All draws come from one ``numpy`` generator.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from fulcrum.sim.params import DAY, SIM_YEAR, T0, SimParams

COUNTRIES = ("GB", "GB", "GB", "GB", "GB", "GB", "IE", "FR", "DE", "US", "IN", "ES")
FAR_COUNTRIES = ("NG", "PH", "BR", "MX", "IN")


class Role(enum.StrEnum):
    REGULAR = "regular"
    BRIDGE = "bridge"
    SHARER = "sharer"
    GROOMER = "groomer"
    SEXTORTION = "sextortion"
    SPAMMER = "spammer"


@dataclass
class Population:
    names: list[str]
    minor: np.ndarray  # true age band
    age: np.ndarray
    birth_year: list[int | None]  # as recorded on the account (imperfect)
    country: list[str]
    created_at: np.ndarray
    role: list[Role]
    edges: list[tuple[int, int, str]]  # (a, b, kind): legitimate connections before the week
    family_links: list[tuple[int, int]]
    groups: list[tuple[int, ...]]  # group conversations (members)
    classes: list[list[int]]  # school classes (minor indices)
    neighbours: list[list[int]] = field(default_factory=list)
    user_groups: list[list[int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.names)

    def recorded_minor(self, i: int) -> bool:
        """How the rules see the account: no birth year counts as a minor (policy default)."""
        by = self.birth_year[i]
        return by is None or SIM_YEAR - by - 1 < 18  # birth_year = SIM_YEAR - age - 1

    def add_account(self, role: Role, age: int, country: str, created_at: float) -> int:
        i = len(self.names)
        self.names.append(f"u{i}")
        self.minor = np.append(self.minor, age < 18)
        self.age = np.append(self.age, age)
        self.birth_year.append(SIM_YEAR - age - 1)
        self.country.append(country)
        self.created_at = np.append(self.created_at, created_at)
        self.role.append(role)
        self.neighbours.append([])
        self.user_groups.append([])
        return i

    def connect(self, a: int, b: int, kind: str) -> None:
        if a == b:  # rewired generators can produce self-loops
            return
        self.edges.append((a, b, kind))
        self.neighbours[a].append(b)
        self.neighbours[b].append(a)


def _recorded_birth_year(rng: np.random.Generator, age: int, params: SimParams) -> int | None:
    u = rng.random()
    if u < params.missing_age_share:
        return None
    if u < params.missing_age_share + params.wrong_age_share:
        wrong = int(rng.integers(19, 26)) if age < 18 else int(rng.integers(15, 18))
        return SIM_YEAR - wrong - 1
    return SIM_YEAR - age - 1


def build_population(params: SimParams, rng: np.random.Generator, regular: int) -> Population:
    """``regular`` ordinary accounts; planted actors are added later by ``fulcrum.sim.planted``."""
    n_minor = round(regular * params.minor_share)
    minors: list[int] = []
    adults: list[int] = []
    households: list[list[int]] = []
    ages: list[int] = []
    i = 0
    while len(minors) < n_minor:
        k_min = int(rng.integers(1, 4))
        k_ad = 1 if rng.random() < 0.3 else 2
        house = []
        for _ in range(k_ad):
            ages.append(int(rng.integers(28, 56)))
            adults.append(i)
            house.append(i)
            i += 1
        for _ in range(k_min):
            ages.append(int(rng.integers(10, 18)))
            minors.append(i)
            house.append(i)
            i += 1
        households.append(house)
    while i < regular:
        ages.append(int(rng.integers(18, 76)))
        adults.append(i)
        i += 1
    n = len(ages)
    age = np.array(ages, dtype=np.int16)
    house_country = {m: COUNTRIES[int(rng.integers(len(COUNTRIES)))] for m in range(n)}
    for house in households:
        c = house_country[house[0]]
        for m in house:
            house_country[m] = c
    pop = Population(
        names=[f"u{j}" for j in range(n)],
        minor=age < 18,
        age=age,
        birth_year=[_recorded_birth_year(rng, int(a), params) for a in age],
        country=[house_country[j] for j in range(n)],
        created_at=T0 - rng.uniform(60, 2_000, n) * DAY,
        role=[Role.REGULAR] * n,
        edges=[],
        family_links=[],
        groups=[],
        classes=[],
        neighbours=[[] for _ in range(n)],
        user_groups=[[] for _ in range(n)],
    )
    for house in households:
        for x in range(len(house)):
            for y in range(x + 1, len(house)):
                pop.connect(house[x], house[y], "family")
        kids = [m for m in house if pop.minor[m]]
        if rng.random() < 0.5:  # guardian-confirmed family ties on half the households
            pop.family_links.extend((a, k) for a in house if not pop.minor[a] for k in kids)
        pop.groups.append(tuple(house))
    _schools(pop, minors, rng)
    _adult_graph(pop, adults, rng)
    _bridges(pop, adults, rng, params)
    for g, members in enumerate(pop.groups):
        for m in members:
            pop.user_groups[m].append(g)
    return pop


def _schools(pop: Population, minors: list[int], rng: np.random.Generator) -> None:
    size = 12
    order = [minors[j] for j in rng.permutation(len(minors))]
    n_classes = max(1, len(order) // size)
    graph = nx.relaxed_caveman_graph(n_classes, size, 0.1, seed=int(rng.integers(2**31)))
    for a, b in sorted(graph.edges()):
        if a < len(order) and b < len(order):
            pop.connect(order[a], order[b], "school")
    for c in range(n_classes):
        members = order[c * size : (c + 1) * size]
        if c == n_classes - 1:
            members = order[c * size :]
        pop.classes.append(members)
        if len(members) >= 4:
            pop.groups.append(tuple(members[: min(8, len(members))]))


def _adult_graph(pop: Population, adults: list[int], rng: np.random.Generator) -> None:
    if len(adults) < 5:
        return
    graph = nx.powerlaw_cluster_graph(len(adults), 3, 0.3, seed=int(rng.integers(2**31)))
    for a, b in sorted(graph.edges()):
        pop.connect(adults[a], adults[b], "adult")
    for a in adults:
        if rng.random() < 0.1 and len(pop.neighbours[a]) >= 3:
            friends = sorted(pop.neighbours[a])[: int(rng.integers(3, 9))]
            pop.groups.append((a, *friends))


def _bridges(
    pop: Population, adults: list[int], rng: np.random.Generator, params: SimParams
) -> None:
    if not pop.classes:
        return
    n_bridge = max(1, int(len(adults) * params.bridge_share))
    for a in rng.choice(adults, size=min(n_bridge, len(adults)), replace=False).tolist():
        pop.role[a] = Role.BRIDGE
        for _ in range(int(rng.integers(1, 3))):
            cls = pop.classes[int(rng.integers(len(pop.classes)))]
            for m in cls[: int(rng.integers(6, 16))]:
                if m not in pop.neighbours[a]:
                    pop.connect(m, a, "bridge")
