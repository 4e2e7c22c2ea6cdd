"""Human- and machine-readable renderings of the records: HTML, PDF, JSON, CSV.

HTML is a Jinja2 template with autoescaping on and a Content-Security-Policy that allows no
scripts; only raster images from ``attachments/`` are shown inline (never SVG). CSV cells that a
spreadsheet would read as a formula (starting with ``= + - @``, tab or CR) get a leading ``'``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from itertools import groupby

import jinja2

from fulcrum.evidence.records import EvidenceCase, EvidenceMessage, iso_ms

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'">
<title>Evidence {{ case.case_id }}</title>
<style>
body{font-family:sans-serif;max-width:60em;margin:auto}
.msg{border:1px solid #ccc;margin:.5em 0;padding:.5em}
.from-target{background:#eef6ff}.to-target{background:#f6f6f6}
.failed{background:#fff0f0;border-color:#c00}
.meta{font-size:.85em;color:#444}.integrity{font-family:monospace;font-size:.75em;color:#555}
.body{white-space:pre-wrap;margin:.4em 0}
img{max-width:30em;max-height:30em;display:block}
</style></head><body>
<h1>Evidence bundle {{ case.case_id }}</h1>
<table>
<tr><th>Warrant</th><td>{{ case.warrant_id }}</td></tr>
<tr><th>Agency</th><td>{{ case.agency }}</td></tr>
<tr><th>Delivered to</th><td>{{ case.recipient }}</td></tr>
<tr><th>Platform</th><td>{{ case.platform }}</td></tr>
<tr><th>Exported</th><td>{{ exported }}</td></tr>
<tr><th>Messages</th><td>{{ decrypted }} decrypted, {{ failed|length }} not decrypted</td></tr>
{% for note in case.notes %}<tr><th>Note</th><td>{{ note }}</td></tr>{% endfor %}
</table>
<p>Server time is authoritative; client time is the sender's claim.</p>
{% if failed %}<h2>Not decrypted ({{ failed|length }})</h2><ul>
{% for m in failed %}<li>{{ m.msg_id }} ({{ m.status }}): {{ m.failure }}</li>{% endfor %}
</ul>{% endif %}
{% for conv, messages in conversations %}
<h2>Conversation {{ conv }}</h2>
{% for m in messages %}
<div class="msg {{ m.direction }}{% if m.status != 'decrypted' %} failed{% endif %}"
 id="msg-{{ m.msg_id }}">
<div class="meta"><b>{{ m.sender }}</b> ({{ m.sender_device }}) &rarr;
{% for a, d in m.recipients %}{{ a }} ({{ d }}){% if not loop.last %}, {% endif %}{% endfor %}
&middot; {{ m.direction }} &middot; server {{ iso(m.server_ts) }} &middot;
client {{ iso(m.client_ts) }} &middot; id {{ m.msg_id }}
{% if m.reply_to %}&middot; reply to <a href="#msg-{{ m.reply_to }}">{{ m.reply_to }}</a>{% endif %}
{% if m.forwarded %}&middot; forwarded{% endif %}</div>
{% if m.status == 'decrypted' %}<div class="body">{{ m.body or '' }}</div>
{% else %}<div class="body"><b>{{ m.status }}</b>: {{ m.failure }}</div>{% endif %}
{% for a in m.attachments %}<div class="attachment">
{% if a.inline_image %}<img src="attachments/{{ a.sha256_hex }}" alt="{{ a.filename }}">{% endif %}
<a href="attachments/{{ a.sha256_hex }}">{{ a.filename }}</a> ({{ a.content_type }},
{{ a.data|length }} bytes, SHA-256 {{ a.sha256_hex }}, MD5 {{ a.md5_hex }})</div>{% endfor %}
<div class="integrity">{{ m.integrity_line() }}</div>
</div>
{% endfor %}{% endfor %}
</body></html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_HTML = _ENV.from_string(_TEMPLATE)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "msg_id", "conv", "target", "direction", "sender", "sender_device", "recipients",
    "server_time", "client_time", "status", "failure", "body", "attachments", "reply_to",
    "forwarded", "franking_verdict", "integrity",
)  # fmt: skip


def ordered(messages: Sequence[EvidenceMessage]) -> list[EvidenceMessage]:
    """Conversations in order of their first message, messages by server time then id."""
    return sorted(messages, key=lambda m: (m.conv, m.server_ts, m.msg_id))


def render_html(case: EvidenceCase, messages: Sequence[EvidenceMessage]) -> bytes:
    ms = ordered(messages)
    conversations = [(conv, list(group)) for conv, group in groupby(ms, key=lambda m: m.conv)]
    return _HTML.render(
        case=case,
        exported=iso_ms(case.exported_at * 1000),
        conversations=conversations,
        failed=[m for m in ms if m.status != "decrypted"],
        decrypted=sum(m.status == "decrypted" for m in ms),
        iso=iso_ms,
    ).encode("utf-8")


def render_json(case: EvidenceCase, messages: Sequence[EvidenceMessage]) -> bytes:
    doc = {
        "case_id": case.case_id,
        "warrant_id": case.warrant_id,
        "notes": list(case.notes),
        "messages": [m.to_json() for m in ordered(messages)],
    }
    return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8")


def csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ tab or CR gets a quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def render_csv(messages: Sequence[EvidenceMessage]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for m in ordered(messages):
        j = m.to_json()
        row = {
            **{k: j[k] for k in CSV_COLUMNS if k in j},
            "recipients": "; ".join(f"{a}/{d}" for a, d in m.recipients),
            "attachments": "; ".join(a.sha256_hex for a in m.attachments),
            "forwarded": "yes" if m.forwarded else "no",
        }
        writer.writerow([csv_safe("" if row[c] is None else str(row[c])) for c in CSV_COLUMNS])
    return out.getvalue().encode("utf-8")


def _pdf_lines(case: EvidenceCase, messages: Sequence[EvidenceMessage]) -> list[str]:
    import textwrap

    lines = [
        f"Evidence bundle {case.case_id} - warrant {case.warrant_id} - agency {case.agency}",
        f"Exported {iso_ms(case.exported_at * 1000)}; server time is authoritative.",
        "",
    ]
    for m in ordered(messages):
        rcpt = ", ".join(f"{a} ({d})" for a, d in m.recipients)
        lines.append(f"[{m.conv}] {m.msg_id} {m.direction} server {iso_ms(m.server_ts)}")
        lines.append(f"  {m.sender} ({m.sender_device}) -> {rcpt}; client {iso_ms(m.client_ts)}")
        if m.reply_to or m.forwarded:
            lines.append(
                f"  reply to {m.reply_to or '-'}; forwarded {'yes' if m.forwarded else 'no'}"
            )
        text = (m.body or "") if m.status == "decrypted" else f"{m.status}: {m.failure}"
        for para in text.splitlines() or [""]:
            lines.extend("  " + w for w in textwrap.wrap(para, 100) or [""])
        lines.extend(f"  attachment {a.filename} SHA-256 {a.sha256_hex}" for a in m.attachments)
        lines.append("  " + m.integrity_line()[:110])
        lines.append("")
    return lines


def render_pdf(case: EvidenceCase, messages: Sequence[EvidenceMessage]) -> bytes:
    """A plain-text PDF of the transcript (see fulcrum.evidence.pdf for its limits)."""
    from fulcrum.evidence.pdf import text_pdf

    return text_pdf(_pdf_lines(case, messages), title=f"Evidence bundle {case.case_id}")
