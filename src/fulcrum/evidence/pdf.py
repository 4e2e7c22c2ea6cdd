"""A minimal text-only PDF 1.4 writer (Courier, WinAnsi), for transcript.pdf.

No PDF library is a project dependency, and matplotlib's PDF backend (installed) took minutes for
a thousand messages, so the transcript PDF is written directly: A4 pages of monospaced lines, the
standard Courier font (not embedded), deterministic bytes. Characters outside Windows-1252 print as
``?`` and control characters as ``?``; the exact text is in messages.json and transcript.html.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN = 36
FONT_SIZE = 7
LEADING = 8.5
COLUMNS = 120
LINES_PER_PAGE = int((PAGE_H - 2 * MARGIN) // LEADING)


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    raw = bytes(b if b >= 0x20 else 0x3F for b in raw)
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def wrap_lines(lines: Sequence[str], width: int = COLUMNS) -> list[str]:
    out: list[str] = []
    for line in lines:
        indent = line[: len(line) - len(line.lstrip(" "))]
        out.extend(
            textwrap.wrap(line, width, subsequent_indent=indent + "  ", drop_whitespace=False)
            or [""]
        )
    return out


def text_pdf(lines: Sequence[str], *, title: str) -> bytes:
    """A PDF showing ``lines`` (wrapped to the page width), one page per LINES_PER_PAGE lines."""
    wrapped = wrap_lines(lines)
    pages = [wrapped[i : i + LINES_PER_PAGE] for i in range(0, len(wrapped), LINES_PER_PAGE)]
    pages = pages or [[]]
    objects: list[bytes] = []  # object i + 1
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)))
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>"
    )
    for i, page in enumerate(pages):
        body = [b"BT /F1 %d Tf %.1f TL %d %d Td" % (FONT_SIZE, LEADING, MARGIN, PAGE_H - MARGIN)]
        body += [_pdf_string(line) + b" Tj T*" for line in page]
        body.append(b"ET")
        stream = b"\n".join(body)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_W, PAGE_H, page_ids[i] + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Title %s /Producer (fulcrum evidence) >>" % _pdf_string(title))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        len(objects),
        xref,
    )
    return bytes(out)
