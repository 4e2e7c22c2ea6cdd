"""The escrow policy file (TOML), validated into a frozen ``EscrowPolicy``.

n = 5                      # trustees
t = 3                      # threshold
epoch_seconds = 604800     # one week
retention_seconds = 7776000
trustees = ["trustee-1", "trustee-2", "trustee-3", "trustee-4", "trustee-5"]
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from fulcrum.escrow.dkg import MAX_TRUSTEES

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_KEYS = {"n", "t", "epoch_seconds", "retention_seconds", "trustees"}


class PolicyError(ValueError):
    """The escrow policy file is missing a value or has a wrong one."""


@dataclass(frozen=True)
class EscrowPolicy:
    n: int
    t: int
    epoch_seconds: int
    retention_seconds: int
    trustees: tuple[str, ...]

    def __post_init__(self) -> None:
        for name in ("n", "t", "epoch_seconds", "retention_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise PolicyError(f"{name} must be an integer")
        if not 2 <= self.t <= self.n <= MAX_TRUSTEES:
            raise PolicyError(f"need 2 <= t <= n <= {MAX_TRUSTEES}")
        if not 60 <= self.epoch_seconds <= 366 * 86400:
            raise PolicyError("epoch_seconds must be between one minute and one year")
        if not 0 <= self.retention_seconds <= 5 * 366 * 86400:
            raise PolicyError("retention_seconds must be between 0 and five years")
        if len(self.trustees) != self.n or len(set(self.trustees)) != self.n:
            raise PolicyError("trustees must list n distinct names")
        for name in self.trustees:
            if not isinstance(name, str) or not _NAME.match(name):
                raise PolicyError(f"bad trustee name {name!r}")

    def epoch_at(self, now: float) -> int:
        return int(now) // self.epoch_seconds

    def window_ms(self, epoch: int) -> tuple[int, int]:
        start = epoch * self.epoch_seconds * 1000
        return start, start + self.epoch_seconds * 1000

    def to_toml(self) -> str:
        names = ", ".join(f'"{n}"' for n in self.trustees)
        return (
            f"n = {self.n}\nt = {self.t}\nepoch_seconds = {self.epoch_seconds}\n"
            f"retention_seconds = {self.retention_seconds}\ntrustees = [{names}]\n"
        )

    @classmethod
    def parse(cls, text: str) -> EscrowPolicy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"policy is not valid TOML: {exc}") from exc
        if set(data) != _KEYS:
            raise PolicyError(f"policy needs exactly the keys {sorted(_KEYS)}")
        trustees = data["trustees"]
        if not isinstance(trustees, list):
            raise PolicyError("trustees must be a list")
        return cls(
            n=data["n"],
            t=data["t"],
            epoch_seconds=data["epoch_seconds"],
            retention_seconds=data["retention_seconds"],
            trustees=tuple(trustees),
        )

    @classmethod
    def load(cls, path: Path) -> EscrowPolicy:
        return cls.parse(path.read_text())


DEFAULT_POLICY = EscrowPolicy(
    n=5,
    t=3,
    epoch_seconds=7 * 86400,
    retention_seconds=90 * 86400,
    trustees=tuple(f"trustee-{i}" for i in range(1, 6)),
)
