"""Access usage computed from the log alone: a pure function over parsed entries.

Agencies are the public ``agency`` field of each ``WarrantRegistered``; messages are the
``field_count`` of each ``DecryptionRequested`` (what was asked for, which bounds what can
be read). Anyone holding the log recomputes the same numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fulcrum.translog import DecryptionRequested, LogEntry, WarrantRegistered


@dataclass(frozen=True)
class AccessUsage:
    """Counts over the entries logged in ``[since, until)``."""

    since: int
    until: int
    warrants_by_agency: Mapping[str, int] = field(default_factory=dict)
    messages_by_agency: Mapping[str, int] = field(default_factory=dict)
    messages_by_epoch: Mapping[int, int] = field(default_factory=dict)
    messages_by_warrant: Mapping[str, int] = field(default_factory=dict)
    requests: frozenset[str] = frozenset()

    @classmethod
    def from_entries(
        cls, entries: Iterable[LogEntry], *, since: int = 0, until: int = 2**53
    ) -> AccessUsage:
        warrants: Counter[str] = Counter()
        agency_msgs: Counter[str] = Counter()
        epoch_msgs: Counter[int] = Counter()
        warrant_msgs: Counter[str] = Counter()
        requests: set[str] = set()
        agency_of: dict[str, str] = {}
        for e in entries:
            if isinstance(e, WarrantRegistered):
                agency_of.setdefault(e.warrant_id, e.agency)
                if since <= e.time < until:
                    warrants[agency_of[e.warrant_id]] += 1
            elif isinstance(e, DecryptionRequested):
                key = f"{e.warrant_id}\n{e.request_id}"
                if key in requests:
                    continue  # a request counts once, however often it is logged
                requests.add(key)
                warrant_msgs[e.warrant_id] += e.field_count  # whole life of the warrant
                if not since <= e.time < until:
                    continue
                epoch_msgs[e.epoch] += e.field_count
                agency = agency_of.get(e.warrant_id)
                if agency is not None:
                    agency_msgs[agency] += e.field_count
        return cls(
            since=since,
            until=until,
            warrants_by_agency=dict(warrants),
            messages_by_agency=dict(agency_msgs),
            messages_by_epoch=dict(epoch_msgs),
            messages_by_warrant=dict(warrant_msgs),
            requests=frozenset(requests),
        )

    def has_request(self, warrant_id: str, request_id: str) -> bool:
        return f"{warrant_id}\n{request_id}" in self.requests
