"""A dict and a set that remember what changed since the last save.

The device store wraps large per-message maps in the layer state (franking bundles, forwarding
counts...) in ``JournaledDict`` so that a save compares only the entries that were touched instead
of the whole map. Any lookup counts as a touch (the value may be mutated in place afterwards);
iterating or bulk-updating the map marks every key. Membership tests and ``==`` do not.
``JournaledSet`` (the replay set ``ClientCore.seen``) records what ``add`` added; any other change
marks the whole set.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from typing import Any


class JournaledDict(dict[str, Any]):
    __slots__ = ("all_touched", "touched")

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.touched: set[str] = set()
        self.all_touched = False

    def reset(self) -> None:
        self.touched = set()
        self.all_touched = False

    def __getitem__(self, key: str) -> Any:
        self.touched.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.touched.add(key)
        return super().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self.touched.add(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.touched.add(key)
        super().__delitem__(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.touched.add(key)
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self.touched.add(key)
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self.all_touched = True
        return super().popitem()

    def clear(self) -> None:
        self.all_touched = True
        super().clear()

    def update(self, *args: Any, **kw: Any) -> None:
        self.all_touched = True
        super().update(*args, **kw)

    def __ior__(self, other: Any) -> JournaledDict:  # type: ignore[override,misc]
        self.all_touched = True
        super().update(other)
        return self

    def __iter__(self) -> Iterator[str]:
        self.all_touched = True
        return super().__iter__()

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        self.all_touched = True
        return super().keys()

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        self.all_touched = True
        return super().values()

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]
        self.all_touched = True
        return super().items()

    def copy(self) -> dict[str, Any]:
        self.all_touched = True
        return dict(super().items())

    def __reduce__(self) -> tuple[Any, ...]:  # copies and pickles are plain dicts
        self.all_touched = True
        return (dict, (dict(super().items()),))


class JournaledSet(set[str]):
    __slots__ = ("added", "all_touched")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.added: list[str] = []
        self.all_touched = False

    def reset(self) -> None:
        self.added = []
        self.all_touched = False

    def add(self, item: str) -> None:
        self.added.append(item)
        super().add(item)

    def discard(self, item: object) -> None:
        self.all_touched = True
        super().discard(item)

    def remove(self, item: str) -> None:
        self.all_touched = True
        super().remove(item)

    def pop(self) -> str:
        self.all_touched = True
        return super().pop()

    def clear(self) -> None:
        self.all_touched = True
        super().clear()

    def update(self, *others: Any) -> None:
        self.all_touched = True
        super().update(*others)

    def difference_update(self, *others: Any) -> None:
        self.all_touched = True
        super().difference_update(*others)

    def intersection_update(self, *others: Any) -> None:
        self.all_touched = True
        super().intersection_update(*others)

    def symmetric_difference_update(self, other: Any) -> None:
        self.all_touched = True
        super().symmetric_difference_update(other)

    def __ior__(self, other: Any) -> JournaledSet:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __isub__(self, other: Any) -> JournaledSet:  # type: ignore[misc]
        self.difference_update(other)
        return self

    def __iand__(self, other: Any) -> JournaledSet:  # type: ignore[misc]
        self.intersection_update(other)
        return self

    def __ixor__(self, other: Any) -> JournaledSet:  # type: ignore[override,misc]
        self.symmetric_difference_update(other)
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # copies and pickles are plain sets
        return (set, (set(iter(self)),))
