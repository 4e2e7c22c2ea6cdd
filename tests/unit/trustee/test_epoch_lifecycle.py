"""A trustee's own epoch rules: the window it accepts, statements of destruction, destroying its
share at the end of retention (time as a parameter, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fulcrum.encoding import b64e
from fulcrum.escrow import TrusteeShare
from fulcrum.hazmat.ristretto import Scalar, base_mul
from fulcrum.hazmat.signing import SigningKey
from fulcrum.translog import EpochKey, LogEntry
from fulcrum.trustee import (
    DestructionRefused,
    EpochRules,
    ShareDestruction,
    SignedDestruction,
    StatementInvalid,
    TrusteeDkg,
    WindowRefused,
    destroy_own_share,
)
from fulcrum.trustee.keystore import TrusteeKeyStore

pytestmark = pytest.mark.unit
HOUR_MS = 3_600_000
RULES = EpochRules(epoch_seconds=3600, retention_seconds=600)


def test_rules_give_the_epoch_window_and_when_its_share_may_go() -> None:
    assert RULES.window_ms(5) == (5 * HOUR_MS, 6 * HOUR_MS)
    assert RULES.destroy_at_ms(6 * HOUR_MS) == 6 * HOUR_MS + 600_000
    with pytest.raises(ValueError):
        EpochRules(epoch_seconds=10, retention_seconds=0)
    with pytest.raises(ValueError):
        EpochRules(epoch_seconds=3600, retention_seconds=-1)


def store_with_share(tmp_path: Path, epoch: int = 5) -> TrusteeKeyStore:
    store = TrusteeKeyStore(tmp_path / "t1", "trustee-1")
    secret = Scalar.from_int(1234567)
    store.save_share(TrusteeShare(epoch=epoch, index=1, secret=secret,
                                  verification_key=base_mul(secret)))  # fmt: skip
    store.save_window(epoch, *RULES.window_ms(epoch))
    return store


def test_share_is_destroyed_exactly_when_retention_ends_then_idempotent(tmp_path: Path) -> None:
    store = store_with_share(tmp_path)
    due = RULES.destroy_at_ms(6 * HOUR_MS) // 1000
    with pytest.raises(DestructionRefused) as info:
        destroy_own_share(store, 5, RULES, due - 1)
    assert info.value.code == "retention_not_over" and store.has_share(5)
    signed = destroy_own_share(store, 5, RULES, due)
    assert store.is_destroyed(5) and not store.has_share(5)
    st = signed.statement
    assert (st.trustee_id, st.epoch, st.share_index, st.destroyed_at) == ("trustee-1", 5, 1, due)
    assert st.verification_key == base_mul(Scalar.from_int(1234567)).to_bytes()
    signed.verify(store.identity().public_key())
    assert destroy_own_share(store, 5, RULES, due + 999) == signed  # the same statement
    # nothing secret in the kept statement, nor in its repr
    kept = (store.directory / "statements" / "5.json").read_bytes()
    for form in (Scalar.from_int(1234567).to_bytes(), store.identity().seed):
        assert b64e(form).encode() not in kept and form.hex() not in repr(signed)


def test_no_share_is_a_typed_refusal(tmp_path: Path) -> None:
    store = TrusteeKeyStore(tmp_path / "t1", "trustee-1")
    with pytest.raises(DestructionRefused) as info:
        destroy_own_share(store, 5, RULES, 10**10)
    assert info.value.code == "no_share"


def test_an_interrupted_destruction_is_completed(tmp_path: Path) -> None:
    store = store_with_share(tmp_path)
    signed = destroy_own_share(store, 5, RULES, 10**10)
    other = store_with_share(tmp_path / "again")
    other.save_statement(5, signed.to_json())  # statement kept, then the host went down
    assert other.has_share(5)
    assert destroy_own_share(other, 5, RULES, 10**10) == signed
    assert other.is_destroyed(5) and not other.has_share(5)


def test_statement_checks() -> None:
    key = SigningKey.generate()
    st = ShareDestruction("trustee-1", 5, 1, bytes(range(32)), 1_700_000_000)
    signed = SignedDestruction(st, key.sign(st.signed_message()))
    again = SignedDestruction.from_json(signed.to_json())
    assert again == signed
    again.verify(key.public_key())
    with pytest.raises(StatementInvalid, match="bad signature"):
        again.verify(SigningKey.generate().public_key())
    forged = SignedDestruction(
        ShareDestruction("trustee-1", 6, 1, bytes(range(32)), 1), signed.signature
    )
    with pytest.raises(StatementInvalid):
        forged.verify(key.public_key())
    assert signed.attestation_digest != SignedDestruction(st, bytes(64)).attestation_digest
    with pytest.raises(StatementInvalid, match="canonical"):
        ShareDestruction.from_bytes(st.to_bytes().replace(b'{"', b'{ "', 1))
    with pytest.raises(StatementInvalid):
        SignedDestruction.from_json({"statement": "", "signature": ""})


class FixedLog:
    def __init__(self, *entries: LogEntry) -> None:
        self.entries = entries

    def snapshot(self) -> tuple[LogEntry, ...]:
        return self.entries


def logged_key(epoch: int, valid_from: int, valid_until: int) -> EpochKey:
    return EpochKey(time=1, epoch=epoch, public_key=base_mul(Scalar.from_int(7)).to_bytes(),
                    threshold=2, trustees=("trustee-1", "trustee-2"), valid_from=valid_from,
                    valid_until=valid_until)  # fmt: skip


def start(stores: list[TrusteeKeyStore], epoch: int) -> dict[str, object]:
    roster = []
    for i, s in enumerate(stores, start=1):
        roster.append(TrusteeDkg(s).roster_entry(i).to_json())
    start, end = RULES.window_ms(epoch)
    return {"session": b64e(bytes(16)), "n": 2, "t": 2, "valid_from": start,
            "valid_until": end, "roster": roster}  # fmt: skip


@pytest.mark.parametrize("logged_until", [6 * HOUR_MS, 5 * HOUR_MS])
def test_a_window_overlapping_a_logged_epoch_is_refused(tmp_path: Path, logged_until: int) -> None:
    """Epoch 4 was logged under an earlier, two-hour epoch length: it covers epoch 5's hour,
    which every trustee then refuses to key (a logged epoch 4 of one hour is the control)."""
    stores = [TrusteeKeyStore(tmp_path / n, n) for n in ("trustee-1", "trustee-2")]
    dkg = TrusteeDkg(stores[0], rules=RULES, log=FixedLog(logged_key(4, 4 * HOUR_MS, logged_until)))
    if logged_until == 5 * HOUR_MS:
        assert "commitment" in dkg.handle(5, "commit", start(stores, 5))
        return
    with pytest.raises(WindowRefused, match="overlaps logged epoch 4"):
        dkg.handle(5, "commit", start(stores, 5))
    assert 5 not in dkg.sessions
