/**
 * The status page's stylesheet, served as `/assets/page.css`. Status colours match `COLOUR` in
 * view.tsx; every coloured thing also carries a word and a glyph. No web fonts, no images.
 */
export const PAGE_CSS = `
:root {
  --healthy: #1a7f37; --healthy-bg: #e6f6ea;
  --degraded: #9a6700; --degraded-bg: #fff5d1;
  --starting: #0969da; --starting-bg: #e3f1ff;
  --unknown: #57606a; --unknown-bg: #eef1f4;
  --unhealthy: #cf222e; --unhealthy-bg: #ffeceb;
  --text: #1f2328; --muted: #59636e; --line: #d1d9e0; --page: #f6f8fa;
  font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif;
  color: var(--text); background: var(--page);
}
* { box-sizing: border-box; }
body { margin: 0; line-height: 1.45; font-size: 15px; }
#live, footer, .topbar { max-width: 1100px; margin: 0 auto; padding: 0 16px; }
h1, h2, h3 { margin: 0; }
code { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 0.92em; }

.s-healthy { --c: var(--healthy); --bg: var(--healthy-bg); }
.s-degraded { --c: var(--degraded); --bg: var(--degraded-bg); }
.s-starting { --c: var(--starting); --bg: var(--starting-bg); }
.s-unknown { --c: var(--unknown); --bg: var(--unknown-bg); }
.s-unhealthy { --c: var(--unhealthy); --bg: var(--unhealthy-bg); }

.banner { background: var(--c); color: #fff; margin: 8px 0 16px; padding: 18px 22px; border-radius: 10px; }
.banner h1 { font-size: 34px; letter-spacing: 0.04em; text-transform: uppercase; line-height: 1.1; }
.banner .glyph { display: inline-block; min-width: 1.1em; }
.banner .headline { font-size: 20px; font-weight: 600; margin: 6px 0 4px; }
.banner .sources { margin: 0; opacity: 0.9; font-size: 13px; }

.pill { display: inline-block; white-space: nowrap; font-weight: 700; font-size: 12px;
  text-transform: uppercase; letter-spacing: 0.03em; color: #fff; background: var(--c);
  border-radius: 999px; padding: 1px 9px; vertical-align: 1px; }

.causes { border: 2px solid var(--unhealthy); background: var(--unhealthy-bg); border-radius: 10px;
  padding: 12px 18px; margin: 0 0 16px; }
.causes h2 { font-size: 17px; color: var(--unhealthy); margin: 0 0 6px; }
.causes ul { list-style: none; margin: 0; padding: 0; }
.causes li { padding: 4px 0; }
.causes .name { font-size: 18px; }
.causes .takes-down { margin: 2px 0 0; }

section h2 { font-size: 16px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em;
  margin: 18px 0 8px; }
.services ul { list-style: none; margin: 0; padding: 0; }
.svc { background: #fff; border: 1px solid var(--line); border-left: 6px solid var(--c);
  border-radius: 8px; padding: 10px 14px; margin: 0 0 8px; }
.svc.s-unhealthy, .svc.s-unknown, .svc.s-degraded { background: linear-gradient(90deg, var(--bg), #fff 60%); }
.svc-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 10px; }
.svc-head .name { font-size: 17px; }
.svc .since { margin-left: auto; color: var(--muted); font-size: 13px; }
.svc .msg { margin: 4px 0 0; }
.svc .impact { margin: 4px 0 0; color: var(--unhealthy); font-weight: 600; }
.svc.role-at-risk .impact { color: var(--degraded); }
.svc .job, .svc .deps { margin: 4px 0 0; color: var(--muted); font-size: 13px; }
.tag { font-size: 12px; border: 1px solid var(--line); border-radius: 4px; padding: 0 6px;
  color: var(--muted); background: #fff; }
.tag.warn { border-color: var(--degraded); color: var(--degraded); font-weight: 700; }
.tag.cause { border-color: var(--unhealthy); color: #fff; background: var(--unhealthy); font-weight: 700; }

.fine-table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line);
  border-radius: 8px; font-size: 14px; }
.fine-table td { padding: 5px 10px; border-top: 1px solid var(--line); vertical-align: baseline; }
.fine-table tr:first-child td { border-top: 0; }
.fine-table .status { width: 1%; border-left: 6px solid var(--c); }
.fine-table .name { white-space: nowrap; }
.fine-table .name .tag { margin-left: 6px; }
.fine-table .msg { color: var(--muted); }
.fine-table .risk { color: var(--degraded); font-weight: 700; }
.fine-table .since { white-space: nowrap; text-align: right; color: var(--muted); font-size: 13px; }
.fine-table .instances { margin: 0; font-size: 13px; }
.fine-table .instances.none { display: none; }

.instances { margin: 6px 0 0; font-size: 14px; }
.instances summary { cursor: pointer; color: var(--muted); }
.instances ul { margin: 4px 0 0; padding: 0 0 0 4px; }
.inst { padding: 2px 0; }
.inst .facts { color: var(--muted); font-size: 13px; }
.instances.none { color: var(--muted); }

.changes table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line);
  border-radius: 8px; font-size: 14px; }
.changes td { padding: 5px 10px; border-top: 1px solid var(--line); vertical-align: baseline; }
.changes tr:first-child td { border-top: 0; }
.changes .when { white-space: nowrap; color: var(--muted); }
.changes .what { font-weight: 600; white-space: nowrap; }
.changes .inst-id { font-weight: 400; color: var(--muted); }
.changes .change { white-space: nowrap; }
.none { color: var(--muted); }

.topbar { padding-top: 10px; }
.conn { margin: 0; color: var(--muted); font-size: 13px; }
footer { color: var(--muted); font-size: 13px; padding-top: 8px; padding-bottom: 24px; }
footer p { margin: 4px 0; }
footer a { color: inherit; }
.conn[data-state="live"] { color: var(--healthy); font-weight: 600; }
.conn[data-state="offline"] { color: #fff; background: var(--unhealthy); padding: 6px 10px;
  border-radius: 6px; font-weight: 700; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
body.stale #live { filter: grayscale(1); opacity: 0.6; }

/* Long words (a 64-character container id, a path in an error) wrap instead of widening the page. */
.msg, .name, .id, .what, .headline, .facts, .takes-down, .deps { overflow-wrap: anywhere; }
/* A long message shown in full further up: a one-line preview that opens to the whole text. */
details.long { display: inline; }
details.long > summary { display: inline; cursor: pointer; color: var(--muted); list-style: none; }
details.long > summary::-webkit-details-marker { display: none; }
details.long > summary::before { content: "▸ "; }
details.long[open] > summary::before { content: "▾ "; }
details.long .less, details.long[open] .preview { display: none; }
details.long[open] .less { display: inline; }
details.long[open] > .text { display: block; white-space: pre-wrap; }
.host { color: var(--muted); }

/* Phones: every table row becomes a wrapping block, so nothing scrolls sideways. */
@media (max-width: 640px) {
  #live, footer, .topbar { padding: 0 10px; }
  .banner { padding: 14px 16px; }
  .banner h1 { font-size: 28px; }
  .banner .headline { font-size: 17px; }
  .svc .since { margin-left: 0; }
  .fine-table, .fine-table tbody, .changes table, .changes tbody { display: block; }
  .fine-table tr, .changes tr { display: flex; flex-wrap: wrap; align-items: baseline;
    gap: 2px 8px; padding: 6px 10px; border-top: 1px solid var(--line); }
  .fine-table tr:first-child, .changes tr:first-child { border-top: 0; }
  .fine-table tr { border-left: 6px solid var(--c); }
  .fine-table td, .changes td { display: block; padding: 0; border: 0; }
  .fine-table .status { width: auto; border-left: 0; }
  .fine-table .msg, .changes .msg { flex-basis: 100%; }
  .fine-table .since { text-align: left; }
  .changes .what, .fine-table .name { white-space: normal; }
}
`
