"""The direct C(meta)/C(env) encoders equal RFC 8785 canonical JSON of to_json(), byte for byte."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.encoding import canonical_json
from fulcrum.franking import AttachmentRef, FrankingMeta, GroupAudience, ServerEnvelope
from fulcrum.franking._canon import env_canonical, meta_canonical

pytestmark = pytest.mark.unit

# Identifiers as check_id allows them: no C0 controls, DEL or surrogates; include quotes,
# backslashes, non-ASCII, astral characters, U+2028.
ident = st.text(
    st.characters(
        blacklist_categories=("Cs",), blacklist_characters="".join(map(chr, range(32))) + "\x7f"
    ),
    min_size=1,
    max_size=24,
) | st.sampled_from(['a"b', "back\\slash", "\u2028", "😀x", "é", "alice"])
digest = st.binary(min_size=32, max_size=32)
msg_id = st.binary(min_size=16, max_size=16)
safe_int = st.integers(min_value=0, max_value=2**53 - 1)

attachment = st.builds(
    AttachmentRef,
    sha256_plain=digest,
    size=safe_int,
    mime=ident,
    key_commit=digest,
)
metas = st.builds(
    FrankingMeta,
    sender=ident,
    sender_device=ident,
    conv=ident,
    msg_id=msg_id,
    client_ts=safe_int,
    content_type=ident,
    prev=digest,
    attachments=st.lists(attachment, max_size=3).map(tuple),
    reply_to=st.none() | msg_id,
    forward_count=safe_int,
)
common = {
    "sender": ident,
    "sender_device": ident,
    "conv": ident,
    "msg_id": msg_id,
    "server_ts": safe_int,
    "ct_sha256": digest,
}
envs = st.builds(
    ServerEnvelope, **common, recipients=st.lists(ident, min_size=1, max_size=4).map(tuple)
) | st.builds(
    ServerEnvelope,
    **common,
    group=st.builds(GroupAudience, group_id=ident, membership_epoch=safe_int, members_hash=digest),
)


@settings(max_examples=300, deadline=None)
@given(metas)
def test_meta_canonical_is_rfc8785(meta: FrankingMeta) -> None:
    assert meta_canonical(meta) == canonical_json(meta.to_json()) == rfc8785.dumps(meta.to_json())
    assert meta.canonical() == meta_canonical(meta)


@settings(max_examples=300, deadline=None)
@given(envs)
def test_env_canonical_is_rfc8785(env: ServerEnvelope) -> None:
    assert env_canonical(env) == canonical_json(env.to_json()) == rfc8785.dumps(env.to_json())
    assert env.canonical() == env_canonical(env)
