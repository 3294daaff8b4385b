"""The fleet page: one self-contained HTML file (inline CSS and script, no external resource, a CSP
that forbids any), clusters worst first, each expandable to its findings with evidence and fixes,
filterable by rule code (also from the address: ``fleet.html#code=XND001``). Every datum is
HTML-escaped.
"""

from __future__ import annotations

import time
from html import escape
from typing import List, Optional

from hadoctor import __version__
from hadoctor.report.fleet import age, codes, verdict, worst_first
from hadoctor.report.result import ClusterResult

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .3em}
.summary span{display:inline-block;margin-right:1em}
.bar{margin:.8em 0}
details.cluster{background:#fff;border:1px solid #ddd;border-left:6px solid #999;margin:.4em 0;border-radius:4px}
details.cluster>summary{cursor:pointer;padding:.45em .6em;display:flex;gap:1em;align-items:baseline;flex-wrap:wrap}
details.cluster>summary .name{font-weight:600;min-width:10em}
.v-error{border-left-color:#c62828!important}.v-warning{border-left-color:#f9a825!important}
.v-unreadable{border-left-color:#6a1b9a!important}.v-incomplete{border-left-color:#ab47bc!important}
.v-info{border-left-color:#0288d1!important}.v-ok{border-left-color:#2e7d32!important}
.badge{font-size:.8em;padding:.05em .5em;border-radius:3px;color:#fff;background:#777}
.b-error{background:#c62828}.b-warning{background:#c77c00}.b-unreadable{background:#6a1b9a}
.b-incomplete{background:#ab47bc}.b-info{background:#0288d1}.b-ok{background:#2e7d32}
.codes,.age,.nodes{color:#555}
.finding{border-top:1px solid #eee;padding:.4em .8em}
.finding .head{font-weight:600}
.evidence{font:12px/1.3 ui-monospace,monospace;white-space:pre-wrap;word-break:break-all;color:#333;margin:.2em 0 .2em 1em}
.fix{margin:.2em 0 .2em 1em}
.note{color:#6a1b9a;padding:.3em .8em}
"""

_JS = """
(function(){
 var sel=document.getElementById('code');
 function apply(){
  var c=sel.value, shown=0;
  document.querySelectorAll('details.cluster').forEach(function(d){
   var has=!c||(' '+d.getAttribute('data-codes')+' ').indexOf(' '+c+' ')>=0;
   d.hidden=!has; if(has) shown++;
   d.querySelectorAll('.finding').forEach(function(f){f.hidden=!!c&&f.getAttribute('data-code')!==c;});
   if(c&&has) d.open=true;
  });
  document.getElementById('shown').textContent=shown;
 }
 var m=/^#code=([A-Z]{3}[0-9]{3})$/.exec(location.hash);
 if(m) sel.value=m[1];
 sel.addEventListener('change',apply); apply();
})();
"""


def render_fleet_html(results: List[ClusterResult], *, now: Optional[float] = None) -> str:
    now = time.time() if now is None else now
    ordered = worst_first(results)
    all_codes = sorted({c for r in results for c in codes(r)})
    counts = {}
    for r in results:
        counts[verdict(r)] = counts.get(verdict(r), 0) + 1
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">",
        f"<title>hadoctor fleet: {len(results)} clusters</title><style>{_CSS}</style></head><body>",
        f"<h1>hadoctor fleet: {len(results)} clusters</h1>",
        "<div class=\"summary\">" + "".join(
            f"<span><span class=\"badge b-{v}\">{v}</span> {n}</span>"
            for v, n in sorted(counts.items(), key=lambda kv: _ORDER.index(kv[0]))) + "</div>",
        "<div class=\"bar\"><label>rule code <select id=\"code\"><option value=\"\">all</option>"
        + "".join(f"<option>{escape(c)}</option>" for c in all_codes)
        + "</select></label> <span id=\"shown\"></span> shown</div>",
    ]
    for r in ordered:
        parts.append(_cluster(r, now))
    parts.append(f"<p class=\"age\">hadoctor {escape(__version__)}</p><script>{_JS}</script></body></html>\n")
    return "\n".join(parts)


_ORDER = ["unreadable", "error", "warning", "incomplete", "info", "ok"]


def _cluster(r: ClusterResult, now: float) -> str:
    v = verdict(r)
    cs = codes(r)
    out = [f"<details class=\"cluster v-{v}\" data-codes=\"{escape(' '.join(cs))}\">",
           f"<summary><span class=\"name\">{escape(r.name)}</span><span class=\"badge b-{v}\">{v}</span>"
           f"<span class=\"nodes\">{escape(', '.join(r.nodes) or '-')}</span>"
           f"<span class=\"codes\">{escape(', '.join(cs))}</span>"
           f"<span class=\"age\">data age {escape(age(r.data_time, now))}</span></summary>"]
    if r.error:
        out.append(f"<div class=\"note\">cannot check {escape(r.target)}: {escape(r.error)}</div>")
    for node, data in sorted(r.incomplete.items()):
        out.append(f"<div class=\"note\">{escape(node)}: missing core data {escape(', '.join(data))}</div>")
    for note in r.notes:
        out.append(f"<div class=\"note\">note: {escape(note)}</div>")
    for f in r.counted:
        hist = " (history)" if f.when == "past" else ""
        out.append(f"<div class=\"finding\" data-code=\"{escape(f.code)}\">"
                   f"<div class=\"head\"><span class=\"badge b-{escape(f.severity)}\">{escape(f.severity)}</span> "
                   f"{escape(f.code)} {escape(f.title)} [{escape(f.node or 'cluster')}]{hist}</div>"
                   f"<div>{escape(f.message)}</div>")
        for e in f.evidence[:8]:
            where = " ".join(x for x in (e.node or "", e.where(),
                                         e.time.strftime("%Y-%m-%d %H:%M:%S") if e.time else "") if x)
            obs = f"  (observed {e.observed})" if e.observed is not None else ""
            out.append(f"<div class=\"evidence\">{escape(where)}  {escape(e.text)}{escape(obs)}</div>")
        if f.fix:
            out.append(f"<div class=\"fix\"><b>fix:</b> {escape(f.fix)}</div>")
        out.append("</div>")
    out.append("</details>")
    return "\n".join(out)
