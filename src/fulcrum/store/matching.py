"""Private-matching tables: the platform's verified matches per account.

``matching_matches`` holds one row per *verified* match (payload opened and PDQ within the
policy distance), never anything about images that did not match. A row keeps what the
platform needs to rebuild the account key later (the image's account-key shares, wrapped review
key and sealed review material). ``review_material`` is filled only once the account passed
the threshold and that image was released for review.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from fulcrum.store.models import Base, BigId


class MatchingMatch(Base):
    __tablename__ = "matching_matches"
    __table_args__ = (UniqueConstraint("account", "image_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(32), index=True)
    image_id: Mapped[str] = mapped_column(String(64))
    epoch: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int] = mapped_column(Integer)
    matched_at: Mapped[int] = mapped_column(BigInteger)  # Unix seconds (server time)
    shares: Mapped[bytes] = mapped_column(LargeBinary)
    review_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    released_at: Mapped[int | None] = mapped_column(BigInteger)
    review_material: Mapped[bytes | None] = mapped_column(LargeBinary)
    case_id: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class StoredMatch:
    account: str
    image_id: str
    epoch: int
    entry_id: str
    distance: int
    matched_at: int
    shares: bytes
    review_sealed: bytes
    released_at: int | None
    case_id: str | None

    def __repr__(self) -> str:
        return f"StoredMatch({self.account!r}, {self.image_id!r}, entry={self.entry_id!r})"


@dataclass(frozen=True)
class ReleasedImage:
    """A matched image whose review material was released (account past the threshold)."""

    account: str
    image_id: str
    entry_id: str
    distance: int
    matched_at: int
    released_at: int
    case_id: str | None
    review_material: bytes

    def __repr__(self) -> str:
        return f"ReleasedImage({self.account!r}, {self.image_id!r}, entry={self.entry_id!r})"


def _stored(row: MatchingMatch) -> StoredMatch:
    return StoredMatch(
        row.account,
        row.image_id,
        row.epoch,
        row.entry_id,
        row.distance,
        row.matched_at,
        row.shares,
        row.review_sealed,
        row.released_at,
        row.case_id,
    )


class MatchLedger:
    """Reads and writes ``matching_matches`` inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def for_account(self, account: str, since: int) -> list[StoredMatch]:
        """Verified matches of ``account`` at or after ``since`` plus every released one."""
        rows = self.session.scalars(
            select(MatchingMatch)
            .where(MatchingMatch.account == account)
            .order_by(MatchingMatch.matched_at, MatchingMatch.id)
        ).all()
        return [_stored(r) for r in rows if r.matched_at >= since or r.released_at is not None]

    def add(self, match: StoredMatch) -> None:
        self.session.add(
            MatchingMatch(
                account=match.account,
                image_id=match.image_id,
                epoch=match.epoch,
                entry_id=match.entry_id,
                distance=match.distance,
                matched_at=match.matched_at,
                shares=match.shares,
                review_sealed=match.review_sealed,
                released_at=None,
                review_material=None,
                case_id=None,
            )
        )
        self.session.flush()

    def mark_released(
        self, account: str, image_id: str, at: int, material: bytes, case_id: str | None
    ) -> None:
        row = self.session.scalars(
            select(MatchingMatch).where(
                MatchingMatch.account == account, MatchingMatch.image_id == image_id
            )
        ).one()
        row.released_at = at
        row.review_material = material
        row.case_id = case_id
        self.session.flush()

    def released(self, account: str | None = None) -> list[ReleasedImage]:
        query = select(MatchingMatch).where(MatchingMatch.released_at.is_not(None))
        if account is not None:
            query = query.where(MatchingMatch.account == account)
        rows = self.session.scalars(query.order_by(MatchingMatch.id)).all()
        return [
            ReleasedImage(
                r.account,
                r.image_id,
                r.entry_id,
                r.distance,
                r.matched_at,
                r.released_at or 0,
                r.case_id,
                r.review_material or b"",
            )
            for r in rows
        ]

    def count(self) -> int:
        return len(self.session.scalars(select(MatchingMatch.id)).all())
