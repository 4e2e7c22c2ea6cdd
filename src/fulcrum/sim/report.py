"""Write ``results.json`` and ``report.html`` (matplotlib plots as PNG files beside it)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

NOTES = (
    "B0 is the plaintext baseline: server-side PDQ over all media at distance 31, the same user "
    "reports and metadata rules, and a content classifier whose recall is ASSUMED (a parameter): "
    "a simulation cannot measure a classifier.",
    "Media: every planted image and a uniform random sample of the benign media go through the "
    "real PDQ + voucher + matcher pipeline; false-match rates for the unsampled benign media are "
    "extrapolated (Clopper-Pearson interval on the sample rate, scaled to the week's media).",
    "Message encryption is sampled: only messages that appear in a submitted report are franked "
    "(commit, relay tag) and verified with verify_report; rules see every message's metadata.",
    "Thresholds were tuned on the tuning seeds and frozen before the held-out seeds were run.",
)


def _headline(results: dict[str, Any]) -> list[list[str]]:
    m = results["metrics"]
    configs = list(next(iter(m["recall"].values())).keys()) if m["recall"] else []
    rows = [["harm", *[f"recall {c}" for c in configs], *[f"retention {c}" for c in configs[1:]]]]
    for harm, by in m["recall"].items():
        ret = m["retention"].get(harm, {})
        rows.append(
            [harm]
            + [_fmt(by[c]["value"]) for c in configs]
            + [_fmt(ret.get(c, {}).get("value")) for c in configs[1:]]
        )
    return rows


def headline_table(results: dict[str, Any]) -> str:
    """A plain-text table of recall and retention per harm (for the CLI and the demo)."""
    rows = _headline(results)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _plot_recall(results: dict[str, Any], path: Path) -> None:
    rec = results["metrics"]["recall"]
    harms = list(rec)
    configs = list(rec[harms[0]]) if harms else []
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(configs))
    for k, c in enumerate(configs):
        vals = [rec[h][c]["value"] or 0 for h in harms]
        lo = [max(0.0, v - (rec[h][c]["ci"][0] or 0)) for v, h in zip(vals, harms, strict=True)]
        hi = [max(0.0, (rec[h][c]["ci"][1] or 0) - v) for v, h in zip(vals, harms, strict=True)]
        xs = [i + k * width for i in range(len(harms))]
        ax.bar(xs, vals, width, label=c, yerr=[lo, hi], capsize=2)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(harms))], harms)
    ax.set_ylabel("recall (95% CI)")
    ax.set_ylim(0, 1.05)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_edits(results: dict[str, Any], path: Path) -> None:
    edits = results["metrics"]["recall_per_edit"]
    names = list(edits)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [edits[n]["B0"] or 0 for n in names], 0.4, label="B0 PDQ")
    ax.bar([x + 0.2 for x in xs], [edits[n]["E3_item"] or 0 for n in names], 0.4, label="E3 item")
    ax.set_xticks(list(xs), names, rotation=30)
    ax.set_ylabel("items matched")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:]
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(results: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True, default=str))
    _plot_recall(results, out / "recall.png")
    _plot_edits(results, out / "recall_per_edit.png")
    m = results["metrics"]
    ops_rows = [
        [
            "config",
            "FP / M msgs",
            "false flags / M accts / month",
            "review / day",
            "legit blocked / 1k / wk",
        ]
    ]
    for c, o in m["operations"].items():
        ops_rows.append(
            [c]
            + [
                f"{_fmt(o[k]['value'])} [{_fmt(o[k]['ci'][0])}, {_fmt(o[k]['ci'][1])}]"
                for k in (
                    "fp_per_million_messages",
                    "false_flags_per_million_accounts_month",
                    "review_items_per_day",
                    "legit_contacts_blocked_per_1k_users_week",
                )
            ]
        )
    seeds = results["seeds"]
    parts = [
        "<html><head><meta charset='utf-8'><title>Fulcrum safety evaluation</title>",
        "<style>body{font-family:sans-serif;max-width:960px;margin:auto}"
        "td,th{border:1px solid #ccc;padding:3px 6px}table{border-collapse:collapse}</style>",
        "</head><body><h1>Fulcrum safety evaluation</h1>",
        f"<p>Held-out seeds {seeds['held_out']} (reported); tuning seeds {seeds['tuning']} "
        f"(used only to choose thresholds). Elapsed {results['run']['elapsed_s']} s.</p>",
        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in NOTES) + "</ul>",
        "<h2>Recall and safety retention per harm</h2>",
        _table(_headline(results)),
        "<img src='recall.png' alt='recall per harm'>",
        "<h2>Operations</h2>",
        _table(ops_rows),
        "<h2>Reports</h2><pre>" + html.escape(json.dumps(m["reports"], indent=1)) + "</pre>",
        "<h2>Known media: per item and per edit</h2><pre>"
        + html.escape(json.dumps(m["known_media_items"], indent=1))
        + "</pre><img src='recall_per_edit.png' alt='recall per edit'>",
        "<h2>Time to detection (hours)</h2><pre>"
        + html.escape(json.dumps(m["ttd_hours"], indent=1))
        + "</pre>",
        "<h2>Leakage (E3 platform observations)</h2><pre>"
        + html.escape(json.dumps(m["leakage"], indent=1))
        + "</pre>",
        "<h2>Media sample</h2><pre>"
        + html.escape(json.dumps(m["media_sample"], indent=1))
        + "</pre>",
        "<h2>Tuning</h2><pre>" + html.escape(json.dumps(results["tuning"], indent=1)) + "</pre>",
        "<h2>Parameters</h2><pre>"
        + html.escape(json.dumps(results["params"], indent=1))
        + "</pre>",
        "</body></html>",
    ]
    path = out / "report.html"
    path.write_text("\n".join(parts))
    return path
