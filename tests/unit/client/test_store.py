"""The encrypted append-only device store: round trips, tampering, crashes, compaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.client.fixtures import (
    MARKER,
    PASS,
    legacy_save,
    new_core,
    open_home,
    receive,
    snapshot,
)

from fulcrum.client.home import KEY_FILE, LOG_FILE, STATE_FILE, DeviceHome, StoreCorrupted
from fulcrum.client.store import LOG_HEADER, RecordLog
from fulcrum.e2ee import DecryptionFailed
from fulcrum.e2ee.at_rest import (
    RecordKey,
    WrongPassphrase,
    new_salt,
    open_record,
    record_aad,
    seal_record,
    storage_key,
)

pytestmark = pytest.mark.unit


def frames(path: Path) -> list[tuple[int, int]]:
    """(offset, total length) of each record frame in a log file."""
    data, at, out = path.read_bytes(), LOG_HEADER, []
    while at < len(data):
        size = 4 + int.from_bytes(data[at : at + 4], "big")
        out.append((at, size))
        at += size
    return out


def saved_home(tmp_path: Path, n: int = 3) -> Path:
    core, state, _, _ = new_core(n)
    home = open_home(tmp_path / "h")
    home.save(core, state)
    for i in range(n, n + 3):
        receive(core, i, f"later {i}")
        home.save(core, state)
    home.unlock()
    return tmp_path / "h"


def test_round_trip_and_restart(tmp_path: Path) -> None:
    core, state, _, _ = new_core(5)
    core.history[-1]["text"] = "the last one"
    state.outbox.append({"msg_id": "o1", "body": "x"})
    home = open_home(tmp_path / "h")
    home.save(core, state)
    expected = snapshot(core, state)
    home.unlock()

    again = open_home(tmp_path / "h")
    core2, state2 = again.load()
    assert snapshot(core2, state2) == expected
    receive(core2, 5, "after restart")
    core2.rejected_count = 3
    del core2.directory["bob"]
    again.save(core2, state2)
    expected = snapshot(core2, state2)
    again.unlock()

    core3, state3 = open_home(tmp_path / "h").load()
    assert snapshot(core3, state3) == expected
    assert core3.history[-1]["text"] == "after restart"
    assert "bob" not in core3.directory


def test_new_home_exists_only_after_first_save(tmp_path: Path) -> None:
    home = open_home(tmp_path / "h")
    assert not home.exists()
    core, state, _, _ = new_core()
    home.save(core, state)
    assert home.exists() and (tmp_path / "h" / KEY_FILE).exists()


def test_wrong_passphrase_refused(tmp_path: Path) -> None:
    path = saved_home(tmp_path)
    with pytest.raises(WrongPassphrase, match="passphrase"):
        open_home(path, "not it")
    assert issubclass(WrongPassphrase, DecryptionFailed)


def test_store_files_hold_no_plaintext(tmp_path: Path) -> None:
    core, state, _, _ = new_core(2)
    receive(core, 9, f"the marker is {MARKER}")
    core.layer_state["franking"]["note"] = MARKER
    home = open_home(tmp_path / "h")
    home.save(core, state)
    home.log and home.log.compact()
    receive(core, 10, f"again {MARKER}")
    home.save(core, state)
    blobs = b"".join((tmp_path / "h" / name).read_bytes() for name in (KEY_FILE, LOG_FILE))
    assert len(blobs) > 1000
    for secret in (MARKER, "token-secret", "dm:alice:bob", "m000009", "franking", "bob/B1"):
        assert secret.encode() not in blobs


def test_tampered_record_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = saved_home(tmp_path)
    log = path / LOG_FILE
    offset, size = frames(log)[2]
    data = bytearray(log.read_bytes())
    data[offset + size - 3] ^= 0x01
    log.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupted, match="record 2"):
        open_home(path).load()


def test_reordered_records_are_an_error(tmp_path: Path) -> None:
    path = saved_home(tmp_path)
    log = path / LOG_FILE
    data = log.read_bytes()
    (a, na), (b, nb) = frames(log)[1:3]
    log.write_bytes(data[:a] + data[b : b + nb] + data[a : a + na] + data[b + nb :])
    with pytest.raises(StoreCorrupted):
        open_home(path).load()


def test_record_from_another_store_is_an_error(tmp_path: Path) -> None:
    mine = saved_home(tmp_path / "one")
    other = saved_home(tmp_path / "two")
    a, na = frames(mine / LOG_FILE)[1]
    b, nb = frames(other / LOG_FILE)[1]
    data, foreign = (mine / LOG_FILE).read_bytes(), (other / LOG_FILE).read_bytes()
    (mine / LOG_FILE).write_bytes(data[:a] + foreign[b : b + nb] + data[a + na :])
    with pytest.raises(StoreCorrupted):
        open_home(mine).load()
    # The other store's whole log under this store's key file is refused too.
    (mine / LOG_FILE).write_bytes(foreign)
    with pytest.raises(StoreCorrupted, match="another device store"):
        open_home(mine).load()


def test_replayed_records_are_detected(tmp_path: Path) -> None:
    path = saved_home(tmp_path)
    log = path / LOG_FILE
    before = snapshot(*open_home(path).load())
    data = log.read_bytes()
    offset, size = frames(log)[-4]  # a record of the last batch, appended again at the end
    log.write_bytes(data + data[offset : offset + size])
    home = open_home(path)
    assert snapshot(*home.load()) == before  # not applied: dropped like a torn tail
    assert home.log is not None and home.log.truncated == size
    assert log.read_bytes() == data
    home.unlock()
    # A whole batch appended again (it ends in a commit): an error, not a skip.
    log.write_bytes(data + data[offset:])
    with pytest.raises(StoreCorrupted):
        open_home(path).load()
    # One record copied into the middle (every later record shifts): an error, not a skip.
    first, size = frames(log)[1]
    log.write_bytes(data[: first + size] + data[first : first + size] + data[first + size :])
    with pytest.raises(StoreCorrupted):
        open_home(path).load()
    log.write_bytes(data[:first] + data[first + size :])  # one record deleted
    with pytest.raises(StoreCorrupted):
        open_home(path).load()


@pytest.mark.parametrize("cut", [1, 7, 40])
def test_torn_tail_is_truncated_and_earlier_records_kept(tmp_path: Path, cut: int) -> None:
    core, state, _, _ = new_core(2)
    home = open_home(tmp_path / "h")
    home.save(core, state)
    kept = snapshot(core, state)
    size_before = (tmp_path / "h" / LOG_FILE).stat().st_size
    receive(core, 2, "torn away")
    home.save(core, state)
    home.unlock()
    log = tmp_path / "h" / LOG_FILE
    log.write_bytes(log.read_bytes()[:-cut])
    again = open_home(tmp_path / "h")
    assert snapshot(*again.load()) == kept
    assert log.stat().st_size == size_before


def test_uncommitted_records_and_zeroed_tail_are_dropped(tmp_path: Path) -> None:
    core, state, _, _ = new_core(2)
    home = open_home(tmp_path / "h")
    home.save(core, state)
    kept = snapshot(core, state)
    log = tmp_path / "h" / LOG_FILE
    good = log.read_bytes()
    receive(core, 2, "never committed")
    home.save(core, state)
    home.unlock()
    last_commit, _ = frames(log)[-1]
    log.write_bytes(log.read_bytes()[:last_commit] + b"\0" * 64)  # the commit never landed
    assert snapshot(*open_home(tmp_path / "h").load()) == kept
    assert log.read_bytes() == good


def test_compaction_keeps_exactly_the_live_state(tmp_path: Path) -> None:
    core, state, _, _ = new_core(20)
    home = open_home(tmp_path / "h", compact_ratio=2.0, compact_min_bytes=4096)
    home.save(core, state)
    assert home.log is not None
    for i in range(60):  # rewrite the same small entries many times: the log fills with garbage
        core.layer_state["franking"]["failed"] = i
        core.layer_state["franking"]["prev"] = {"dm:alice:bob": f"p{i}"}
        home.save(core, state)
    assert home.log.compactions >= 1
    live = sorted(home.log.items(), key=repr)
    expected = snapshot(core, state)
    home.unlock()
    reopened = RecordLog.open(
        tmp_path / "h" / LOG_FILE, *_key_of(tmp_path / "h"), compact_min_bytes=1 << 30
    )
    assert sorted(reopened.items(), key=repr) == live
    reopened.close()
    assert snapshot(*open_home(tmp_path / "h").load()) == expected
    home2 = open_home(tmp_path / "h")
    home2.load()
    assert home2.log is not None
    live = sorted(home2.log.items(), key=repr)
    home2.log.compact()
    assert len(frames(tmp_path / "h" / LOG_FILE)) == 2  # one pack and one commit
    assert sorted(home2.log.items(), key=repr) == live
    assert home2.log.size <= home2.log.live_bytes + 64
    assert not (tmp_path / "h" / (LOG_FILE + ".tmp")).exists()


def _key_of(path: Path) -> tuple[bytes, bytes]:
    home = open_home(path)
    home.load()
    assert home.log is not None
    store_id, key = home.log.store_id, home.log._data_key
    home.unlock()
    return store_id, key


def test_migration_from_whole_state_format(tmp_path: Path) -> None:
    core, state, _, _ = new_core(4)
    state.outbox.append({"msg_id": "o1"})
    salt = new_salt()
    legacy_save(tmp_path / "h", core, state, storage_key(PASS, salt, 10), salt)
    expected = snapshot(core, state)
    home = DeviceHome(tmp_path / "h")  # the cost is read from the old file
    assert home.exists()
    home.unlock_with("wrong")
    with pytest.raises(WrongPassphrase):
        home.load()
    assert (tmp_path / "h" / STATE_FILE).exists() and not (tmp_path / "h" / KEY_FILE).exists()
    home = DeviceHome(tmp_path / "h")
    home.unlock_with(PASS)
    assert home.log2_n == 10
    assert snapshot(*home.load()) == expected
    assert not (tmp_path / "h" / STATE_FILE).exists()
    assert (tmp_path / "h" / KEY_FILE).exists()
    home.unlock()
    core2, state2 = open_home(tmp_path / "h").load()
    assert snapshot(core2, state2) == expected


def test_passphrase_change_rewraps_the_key_only(tmp_path: Path) -> None:
    path = saved_home(tmp_path)
    log_before = (path / LOG_FILE).read_bytes()
    home = open_home(path)
    expected = snapshot(*home.load())
    home.change_passphrase("new words")
    home.unlock()
    assert (path / LOG_FILE).read_bytes() == log_before
    with pytest.raises(WrongPassphrase):
        open_home(path, PASS)
    assert snapshot(*open_home(path, "new words").load()) == expected


def test_server_time_on_an_earlier_sent_entry_is_saved(tmp_path: Path) -> None:
    core, state, _, _ = new_core(3)
    receive(core, 3, "sent by me", direction="out")
    receive(core, 4, "then one in")
    home = open_home(tmp_path / "h")
    home.save(core, state)
    core.record_server_time("m000003", 424242)
    home.save(core, state)
    home.unlock()
    core2, _ = open_home(tmp_path / "h").load()
    assert core2.history[3]["server_ts"] == 424242


def test_layer_state_edits_and_removals_are_saved(tmp_path: Path) -> None:
    core, state, _, _ = new_core(3)
    home = open_home(tmp_path / "h")
    home.save(core, state)
    layer = core.layer_state["franking"]
    del layer["bundles"]["m000001"]
    layer["bundles"]["m000002"]["ts"] = 99
    layer["prev"] = "now a string"
    layer["failed"] = {"now": "a dict"}
    core.layer_state["escrow"] = {"current": 4}
    home.save(core, state)
    expected = snapshot(core, state)
    del core.layer_state["escrow"]
    home.save(core, state)
    expected_after = snapshot(core, state)
    home.unlock()
    assert expected != expected_after
    assert snapshot(*open_home(tmp_path / "h").load()) == expected_after


def test_save_cost_does_not_grow_with_history(tmp_path: Path) -> None:
    """Bytes appended for one more received message, with a short and a long history."""

    def appended(n: int) -> int:
        core, state, _, _ = new_core(n)
        home = open_home(tmp_path / f"h{n}")
        home.save(core, state)
        assert home.log is not None
        before = home.log.size
        receive(core, n, "one more")
        home.save(core, state)
        home.unlock()
        return home_size(tmp_path / f"h{n}") - before

    small, large = appended(10), appended(2000)
    assert small < 2000  # a few records, not the state
    assert abs(large - small) <= 8  # only the index digits differ


def home_size(path: Path) -> int:
    return (path / LOG_FILE).stat().st_size


def test_cached_record_aad_matches_the_domain_message() -> None:
    store_id, log_id = bytes(range(16)), bytes(range(16, 32))
    for seq, kind in [(0, 0), (1, 9), (2**40 + 3, 255)]:
        aad = RecordKey(b"k" * 32, store_id, log_id)._aad(seq, kind)
        assert aad == record_aad(store_id, log_id, seq, kind)
    sealed = seal_record(b"k" * 32, store_id, log_id, 7, 3, b"body")
    assert open_record(b"k" * 32, store_id, log_id, 7, 3, sealed) == b"body"
    for seq, kind, other in [(8, 3, log_id), (7, 4, log_id), (7, 3, store_id)]:
        with pytest.raises(DecryptionFailed):
            open_record(b"k" * 32, store_id, other, seq, kind, sealed)


def test_large_saves_are_packed_and_opening_packs_single_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fulcrum.client.store as store

    core, state, _, _ = new_core(40)
    home = open_home(tmp_path / "h")
    home.lock()
    home.save(core, state)  # the first save: about a hundred records in one pack
    log = tmp_path / "h" / LOG_FILE
    assert len(frames(log)) == 3  # the empty log's commit, one pack, this save's commit
    for i in range(40, 80):
        receive(core, i, f"one at a time {i}")
        home.save(core, state)
    assert home.log is not None and 2 * home.log.singles > len(list(home.log.items()))
    assert home.log.compactions == 0
    expected = snapshot(core, state)
    home.unlock()
    monkeypatch.setattr(store, "REPACK_SINGLES", 20)
    again = open_home(tmp_path / "h")
    again.lock()
    assert snapshot(*again.load()) == expected
    assert again.log is not None and again.log.compactions == 1 and again.log.singles == 0
    again.unlock()
    assert len(frames(log)) == 2  # one pack and a commit
    assert snapshot(*open_home(tmp_path / "h").load()) == expected
    # A flipped byte inside a pack is caught like any record's.
    offset, size = frames(log)[0]
    data = bytearray(log.read_bytes())
    data[offset + size // 2] ^= 0x20
    log.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupted):
        open_home(tmp_path / "h").load()


def test_group_sessions_and_replay_set_survive_and_append(tmp_path: Path) -> None:
    from fulcrum.e2ee import GroupSender, ReplayedMessage
    from fulcrum.e2ee.groups import GroupSessionKey

    core, state, bob, _ = new_core(2)
    outbound = GroupSender("team", 1, 1000.0)
    key = outbound.session_key()
    core.group_receiver.add(
        bob.identity_key, GroupSessionKey(key.group_id, key.session_id, key.session_key)
    )
    home = open_home(tmp_path / "h")
    home.save(core, state)
    assert home.log is not None
    growth, sent = [], []
    for i in range(6):
        sent.append(outbound.encrypt(f"g{i}".encode()))
        core.group_receiver.decrypt(bob.identity_key, sent[-1])
        before = home.log.size
        home.save(core, state)
        growth.append(home.log.size - before)
    assert max(growth) - min(growth) <= 4 and max(growth) < 1500
    expected = snapshot(core, state)
    home.unlock()
    core2, state2 = open_home(tmp_path / "h").load()
    assert snapshot(core2, state2) == expected
    with pytest.raises(ReplayedMessage):  # the replay set came back: an old index is refused
        core2.group_receiver.decrypt(bob.identity_key, sent[2])
