"""A verification report as one self-contained HTML file: inline CSS, no script, no
external asset, readable offline and attachable to a ticket. Summary first, then each
area with its failures first, then the timings. What is not verified is counted beside
the verdict with the coverage figure, and listed on its own before the areas."""

from __future__ import annotations

from html import escape
from pathlib import Path

from evacuate.verify.model import Check, Status, VerifyReport

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;
max-width:1200px;color:#1d2733;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.8em}
.meta{color:#5b6b7b}.verdict{display:inline-block;padding:.3em .8em;border-radius:4px;
font-weight:600;color:#fff}.ok{background:#1f8a4c}.bad{background:#c0392b}
.cards{display:flex;gap:1em;margin:1em 0}.card{border:1px solid #d5dde5;border-radius:6px;
padding:.6em 1.2em;min-width:7em}.card b{display:block;font-size:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border-bottom:1px solid #e3e8ee;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f4f6f8;font-weight:600}td.num{text-align:right;white-space:nowrap}
code{font:12px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.s{font-weight:700;text-transform:uppercase;font-size:.8em;white-space:nowrap}
.s-fail{color:#c0392b}.s-pass{color:#1f8a4c}.s-skip{color:#8a6d1f}.s-accepted{color:#2c6fb0}
.s-unverified{color:#b35c00}tr.fail{background:#fdf1f0}tr.unverified{background:#fff6e8}
.warn{display:inline-block;padding:.3em .8em;border-radius:4px;font-weight:600;
background:#b35c00;color:#fff;margin-left:.5em}
"""


def _row(check: Check) -> str:
    return (f'<tr class="{check.status.value}" id="{escape(check.id, quote=True)}">'
            f'<td class="s s-{check.status.value}">{check.status.label}</td>'
            f"<td><code>{escape(check.name)}</code></td>"
            f"<td><code>{escape(check.expected)}</code></td>"
            f"<td><code>{escape(check.found)}</code></td>"
            f"<td>{escape(check.detail)}</td>"
            f'<td class="num">{check.duration:.3f}</td></tr>')


def html_report(report: VerifyReport) -> str:
    """Return ``report`` as a complete HTML document."""
    counts = report.counts()
    verdict = ('<span class="verdict ok">the target is the same server</span>' if report.ok
               else f'<span class="verdict bad">{counts["fail"]} checks failed</span>')
    unverified = report.not_verified()
    if unverified:
        verdict += (f'<span class="warn">{len(unverified)} not verified</span>')
    cards = "".join(f'<div class="card"><b>{counts[s.value]}</b>{s.label}</div>'
                    for s in (Status.FAIL, Status.UNVERIFIED, Status.PASS, Status.ACCEPTED,
                              Status.SKIP))
    cards += (f'<div class="card"><b>{report.coverage.checked}/{report.coverage.seen}</b>'
              "seen by the inventory and checked</div>")
    title = f"evacuate verify: {report.target} against {report.source}"
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">snapshot <code>{escape(report.snapshot)}</code> · started '
        f"{escape(report.started)} · {report.duration:.1f} s · source "
        f"{escape(report.source_os or '?')} · target {escape(report.target_os or '?')}</p>",
        f"<p>{verdict}</p>", f'<div class="cards">{cards}</div>',
    ]
    if unverified:
        parts.append("<h2>Not verified</h2><p>Seen by the source's inventory, checked by "
                     "nothing (see each reason):</p><table><tr><th>area</th><th>object</th>"
                     "<th>reason</th></tr>")
        parts.extend(f"<tr><td>{escape(c.area)}</td><td><code>{escape(c.name)}</code></td>"
                     f"<td>{escape(c.detail)}</td></tr>" for c in unverified)
        parts.append("</table>")
    parts.append("<h2>Areas</h2><table><tr><th>area</th><th>failed</th><th>not verified</th>"
                 "<th>passed</th><th>accepted</th><th>skipped</th></tr>")
    groups = report.by_area()
    for area, checks in groups:
        tally = {s: sum(c.status is s for c in checks) for s in Status}
        parts.append(f'<tr><td><a href="#area-{escape(area)}">{escape(area)}</a></td>'
                     f'<td class="num">{tally[Status.FAIL]}</td>'
                     f'<td class="num">{tally[Status.UNVERIFIED]}</td>'
                     f'<td class="num">{tally[Status.PASS]}</td>'
                     f'<td class="num">{tally[Status.ACCEPTED]}</td>'
                     f'<td class="num">{tally[Status.SKIP]}</td></tr>')
    parts.append("</table>")
    for area, checks in groups:
        parts.append(f'<h2 id="area-{escape(area)}">{escape(area)} ({len(checks)})</h2>'
                     "<table><tr><th>status</th><th>object</th><th>expected (source)</th>"
                     "<th>found (target)</th><th>detail</th><th>seconds</th></tr>")
        parts.extend(_row(check) for check in checks)
        parts.append("</table>")
    parts.append("<h2>Timings</h2><table><tr><th>phase</th><th>seconds</th></tr>")
    parts.extend(f'<tr><td>{escape(phase)}</td><td class="num">{seconds:.3f}</td></tr>'
                 for phase, seconds in report.timings.items())
    parts.append(f'<tr><th>total</th><th class="num">{report.duration:.3f}</th></tr></table>')
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_html(report: VerifyReport, path: Path) -> Path:
    # file names that are not UTF-8 show as \\xNN escapes
    path.write_bytes(html_report(report).encode("utf-8", "backslashreplace"))
    return path
