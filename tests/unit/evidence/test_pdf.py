"""transcript.pdf: a well-formed text PDF whose strings cannot break out of their operators."""

from __future__ import annotations

import re

import pytest

from fulcrum.evidence.pdf import LINES_PER_PAGE, text_pdf

pytestmark = pytest.mark.unit


def objects_at_xref_offsets(pdf: bytes) -> None:
    start = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[start:].startswith(b"xref\n0 ")
    count = int(pdf[start:].split(b"\n")[1].split()[1])
    rows = pdf[start:].split(b"\n")[3 : 2 + count]
    for n, row in enumerate(rows, start=1):
        offset = int(row[:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % n)


def test_structure_pages_and_offsets() -> None:
    lines = [f"line {i}" for i in range(LINES_PER_PAGE * 2 + 5)]
    pdf = text_pdf(lines, title="t")
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    assert b"/Count 3" in pdf
    objects_at_xref_offsets(pdf)
    assert text_pdf([], title="empty").count(b"/Type /Page ") == 1


def test_strings_are_escaped() -> None:
    hostile = ") Tj ET BT /F1 99 Tf (pwned) Tj \\ (x) \x00 \u2603 $x^2$"
    pdf = text_pdf([hostile], title="(t)")
    stream = pdf.split(b"stream\n")[1].split(b"\nendstream")[0]
    # Every parenthesis inside the shown string is escaped: exactly one string operand per line.
    shown = [ln for ln in stream.split(b"\n") if ln.endswith(b" Tj T*")]
    assert len(shown) == 1
    unescaped = re.findall(rb"(?<!\\)[()]", shown[0][:-6])
    assert len(unescaped) == 2  # the delimiters only
    assert b"\x00" not in stream and b"?" in stream
    objects_at_xref_offsets(pdf)
