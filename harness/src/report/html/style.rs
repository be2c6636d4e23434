//! The page's only stylesheet, inlined so the page loads nothing.

pub(super) const STYLE: &str = "
:root{--ok:#2f9e44;--answered:#4c6ef5;--fail:#e03131;--info:#f08c00;--ink:#1d232a;--muted:#5b6570;--line:#d5dbe1;--soft:#f4f6f8}
body{margin:0;color:var(--ink);background:#fff;font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}
header{padding:14px 24px 10px;border-top:6px solid var(--muted);background:var(--soft)}
header.pass{border-top-color:var(--ok)}header.fail{border-top-color:var(--fail)}header.unknown{border-top-color:var(--info)}
h1{font-size:22px;margin:0 0 6px}h1 .seed{color:var(--muted);font-weight:normal}
h2{font-size:17px;margin:22px 0 6px}
header p{margin:4px 0}.description{font-size:15px}.facts{color:var(--muted)}
main{padding:0 24px 16px;max-width:1240px}
footer{padding:12px 24px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
.badge{display:inline-block;padding:1px 10px;border-radius:4px;color:#fff;font-size:15px;vertical-align:2px;letter-spacing:.03em}
.badge.small{font-size:12px;padding:0 7px;vertical-align:0}
.badge.pass{background:var(--ok)}.badge.fail{background:var(--fail)}.badge.unknown{background:var(--info)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,\"Liberation Mono\",monospace;font-size:12.5px}
code{background:#e9edf1;padding:1px 4px;border-radius:3px}
pre{background:var(--soft);padding:8px 10px;overflow-x:auto;border-radius:4px;margin:4px 0}
table{border-collapse:collapse;margin:6px 16px 6px 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.evidence td{background:#fffafa}tr.evidence p{margin:2px 0}
.side{display:flex;flex-wrap:wrap;align-items:flex-start}
details{margin:4px 0}summary{cursor:pointer;color:var(--muted)}
svg{display:block;width:100%;height:auto;max-width:1200px;margin:4px 0}
svg text{font-size:11px;fill:#39424c}
svg .axis-title{fill:var(--muted)}svg .band-label{fill:#fff;font-weight:600}
svg .grid{stroke:#e3e7eb;stroke-width:1}svg .axis{stroke:#8a949e;stroke-width:1}
svg .stripe{fill:#f6f8fa}svg .open{fill-opacity:.4}
svg .mark-detect line{stroke:#d68910}svg .mark-impact line{stroke:#c0392b}svg .mark-recover line{stroke:#1e8449}svg g[class^=mark] line{stroke-width:1.2;stroke-dasharray:2 2}svg g[class^=mark] text{font-size:10px;fill:#1d232a}svg .not-run{fill:#1d232a;fill-opacity:.06}svg .run-end{stroke:#1d232a;stroke-width:1.5;stroke-dasharray:4 3}svg .run-end-label{fill:#1d232a}
svg .ok{fill:var(--ok)}svg .answered{fill:var(--answered)}svg .fail{fill:var(--fail)}svg .info{fill:var(--info)}
svg .evidence{stroke:#1d232a;stroke-width:1.6;fill-opacity:1}svg .evidence-span{fill:none;stroke:#1d232a;stroke-width:1;stroke-dasharray:3 2}
svg circle{fill-opacity:.75}
svg .t-fault{fill:#1d232a}svg .t-host{fill:#6741d9}svg .t-log{fill:#adb5bd}svg .t-panic{fill:var(--fail)}
.legend span{margin-right:16px;white-space:nowrap}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;vertical-align:-1px;margin-right:5px}
.sw.ok{background:var(--ok)}.sw.answered{background:var(--answered)}.sw.fail{background:var(--fail)}.sw.info{background:var(--info)}.sw.evidence{background:#fff;border:1.6px solid #1d232a;box-sizing:border-box}
.evidence-side{display:flex;flex-wrap:wrap;gap:12px}.evidence-side>div{flex:1 1 420px;min-width:0}
.note{color:var(--muted);font-size:12.5px;margin:2px 0}
";
