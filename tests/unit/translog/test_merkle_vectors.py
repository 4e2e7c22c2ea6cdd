"""RFC 9162 Merkle tree against the transparency-dev/merkle vectors, including all 196 probes."""

from __future__ import annotations

from typing import Any

import pytest

from fulcrum.translog import (
    EMPTY_ROOT,
    InMemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

from .support import h, load_vectors

pytestmark = pytest.mark.unit

V = load_vectors("rfc9162-merkle.json")
LEAVES = [h(x) for x in V["leaves"]]


@pytest.fixture(scope="module")
def tree() -> InMemoryTree:
    t = InMemoryTree()
    for leaf in LEAVES:
        t.append(leaf)
    return t


def test_empty_root() -> None:
    assert h(V["empty_root"]) == EMPTY_ROOT
    assert InMemoryTree().root_hash() == EMPTY_ROOT
    assert merkle_root([]) == EMPTY_ROOT


@pytest.mark.parametrize("case", V["roots"], ids=lambda c: f"size{c['tree_size']}")
def test_roots(tree: InMemoryTree, case: dict[str, Any]) -> None:
    n = case["tree_size"]
    assert tree.root_hash(n) == h(case["root"])
    assert merkle_root([leaf_hash(x) for x in LEAVES[:n]]) == h(case["root"])


def test_node_hashes(tree: InMemoryTree) -> None:
    for level, hashes in enumerate(V["node_hashes"]["levels"]):
        for i, want in enumerate(hashes):
            span = 1 << level
            assert tree.subtree_hash(i * span, (i + 1) * span) == h(want)
            if i == 0:
                assert root_hash(tree, span) == h(want)
    assert [tree.leaf_hash(i) for i in range(8)] == [leaf_hash(x) for x in LEAVES]


@pytest.mark.parametrize("case", V["inclusion_proofs"], ids=str)
def test_inclusion_proofs(tree: InMemoryTree, case: dict[str, Any]) -> None:
    proof = [h(p) for p in case["proof"]]
    assert inclusion_proof(tree, case["leaf_index"], case["tree_size"]) == proof
    verify_inclusion(
        h(case["leaf_hash"]), case["leaf_index"], case["tree_size"], proof, h(case["root"])
    )


@pytest.mark.parametrize("case", V["consistency_proofs"], ids=str)
def test_consistency_proofs(tree: InMemoryTree, case: dict[str, Any]) -> None:
    proof = [h(p) for p in case["proof"]]
    assert consistency_proof(tree, case["size1"], case["size2"]) == proof
    verify_consistency(case["size1"], case["size2"], proof, h(case["root1"]), h(case["root2"]))


def _probe_id(case: dict[str, Any]) -> str:
    return str(case["file"]).removeprefix("testdata/")


@pytest.mark.parametrize("case", V["probes"]["inclusion"], ids=_probe_id)
def test_inclusion_probes(case: dict[str, Any]) -> None:
    args = (
        h(case["leaf_hash"]),
        case["leaf_index"],
        case["tree_size"],
        [h(p) for p in case["proof"] or []],
        h(case["root"]),
    )
    if case["want_error"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("case", V["probes"]["consistency"], ids=_probe_id)
def test_consistency_probes(case: dict[str, Any]) -> None:
    args = (
        case["size1"],
        case["size2"],
        [h(p) for p in case["proof"] or []],
        h(case["root1"]),
        h(case["root2"]),
    )
    if case["want_error"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_probe_counts() -> None:
    for kind in ("inclusion", "consistency"):
        probes = V["probes"][kind]
        assert len(probes) == 98
        assert sum(not p["want_error"] for p in probes) == 6


def test_all_proofs_between_vector_sizes(tree: InMemoryTree) -> None:
    roots = {c["tree_size"]: h(c["root"]) for c in V["roots"]}
    for n in range(1, 9):
        for i in range(n):
            verify_inclusion(leaf_hash(LEAVES[i]), i, n, tree.inclusion_proof(i, n), roots[n])
        for m in range(1, n + 1):
            verify_consistency(m, n, tree.consistency_proof(m, n), roots[m], roots[n])
