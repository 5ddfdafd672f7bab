"""`GET /dashboard`: one self-contained page (no build step, no external assets: it works offline on a cluster)
that polls `GET /v1/stats` every two seconds and draws it: environments with family, version, state and
replicas; per environment items/s, the status mix and p50/p99 latency over the last minutes as small SVG charts;
queue depth and in-flight items per worker, with restarts; the most recent `error`/`timeout` items."""

from __future__ import annotations

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rewardgym</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2330; background: #fafbfc; }
 h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
 .muted { color: #6b7280; } table { border-collapse: collapse; width: 100%; background: #fff; }
 th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #e5e7eb; vertical-align: middle; }
 th { font-weight: 600; background: #f3f4f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
 .state-ready { color: #047857; } .state-starting { color: #b45309; } .state-unavailable { color: #b91c1c; }
 svg { display: block; } .mix { display: flex; height: 10px; width: 160px; border-radius: 2px; overflow: hidden;
 background: #e5e7eb; } .legend span { margin-right: 1em; } .dot { display: inline-block; width: .7em;
 height: .7em; border-radius: 50%; margin-right: .3em; } code { font-size: 12px; }
</style></head>
<body>
<h1>rewardgym</h1>
<div class="muted" id="summary">loading /v1/stats ...</div>
<h2>Environments</h2>
<div class="legend muted" id="legend"></div>
<table><thead><tr><th>environment</th><th>family</th><th>version</th><th>state</th><th>replicas</th>
<th>items/s (last min)</th><th>items/s, 5 min</th><th>status mix</th><th>p50 / p99 ms</th><th>latency, 5 min</th>
</tr></thead><tbody id="envs"></tbody></table>
<h2>Workers</h2>
<table><thead><tr><th>worker</th><th>family</th><th>state</th><th>scoring processes</th><th>in flight</th>
<th>queued</th><th>restarts</th><th>last error</th></tr></thead><tbody id="workers"></tbody></table>
<h2>Recent errors and timeouts</h2>
<table><thead><tr><th>time</th><th>environment</th><th>item</th><th>status</th><th>message</th></tr></thead>
<tbody id="failures"></tbody></table>
<script>
"use strict";
const COLORS = {ok: "#10b981", no_answer: "#9ca3af", invalid_task: "#f59e0b", timeout: "#8b5cf6", error: "#ef4444"};
const STATUSES = Object.keys(COLORS);
function cell(row, text, cls) { const td = document.createElement("td"); td.textContent = text;
  if (cls) td.className = cls; row.appendChild(td); return td; }
function total(point) { return STATUSES.reduce((n, s) => n + (point[s] || 0), 0); }
function buckets(series, size, value) { const out = [];
  for (let i = 0; i < series.length; i += size) out.push(value(series.slice(i, i + size))); return out; }
function spark(values, color, width = 160, height = 28) {
  const ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", width); svg.setAttribute("height", height);
  const max = Math.max(1e-9, ...values.filter(v => v !== null));
  const points = values.map((v, i) => [i * width / Math.max(1, values.length - 1),
                                      height - 2 - (v === null ? 0 : v) / max * (height - 4)]);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.map(p => p.join(",")).join(" "));
  line.setAttribute("fill", "none"); line.setAttribute("stroke", color); line.setAttribute("stroke-width", "1.5");
  svg.appendChild(line); return svg; }
function mix(statuses) { const bar = document.createElement("div"); bar.className = "mix";
  const n = STATUSES.reduce((a, s) => a + (statuses[s] || 0), 0);
  for (const s of STATUSES) { if (!statuses[s]) continue; const part = document.createElement("div");
    part.style.width = (100 * statuses[s] / n) + "%"; part.style.background = COLORS[s];
    part.title = s + ": " + statuses[s]; part.dataset.status = s; bar.appendChild(part); }
  return bar; }
function render(stats) {
  document.getElementById("summary").textContent = "up " + Math.round(stats.uptime_s) + " s; " +
    Object.keys(stats.catalogue).length + " environments; " + stats.workers.length + " workers; " +
    stats.workers.reduce((n, w) => n + w.inflight_items, 0) + " items in flight; refreshed " +
    new Date(stats.now * 1000).toLocaleTimeString();
  const envs = document.getElementById("envs"); envs.replaceChildren();
  for (const [name, info] of Object.entries(stats.catalogue)) {
    const live = stats.envs[name] || {items_per_s_last_minute: 0, statuses: {}, latency_ms: {}, series: []};
    const row = document.createElement("tr"); row.dataset.env = name;
    cell(row, name); cell(row, info.family); cell(row, info.version);
    cell(row, info.status, "state-" + info.status); cell(row, String(info.replicas), "num");
    cell(row, live.items_per_s_last_minute.toFixed(2), "num items-per-s");
    cell(row, "").appendChild(spark(buckets(live.series, 10, part => part.reduce((n, p) => n + total(p), 0) / 10),
                                   "#2563eb"));
    cell(row, "").appendChild(mix(live.statuses));
    const p50 = live.latency_ms.p50, p99 = live.latency_ms.p99;
    cell(row, p50 == null ? "-" : p50.toFixed(1) + " / " + p99.toFixed(1), "num");
    cell(row, "").appendChild(spark(buckets(live.series, 10, part => Math.max(0, ...part.map(p => p.p99_ms || 0))),
                                   "#8b5cf6"));
    envs.appendChild(row); }
  const workers = document.getElementById("workers"); workers.replaceChildren();
  for (const w of stats.workers) { const row = document.createElement("tr");
    cell(row, w.name); cell(row, w.family); cell(row, w.state, "state-" + w.state);
    cell(row, String(w.processes), "num"); cell(row, String(w.inflight_items), "num");
    cell(row, String(w.queued_items), "num"); cell(row, String(w.restarts), "num"); cell(row, w.last_error || "");
    workers.appendChild(row); }
  const failures = document.getElementById("failures"); failures.replaceChildren();
  for (const f of stats.recent_failures) { const row = document.createElement("tr");
    cell(row, new Date(f.time * 1000).toLocaleTimeString()); cell(row, f.env); cell(row, f.id || "");
    cell(row, f.status); cell(row, "").appendChild(document.createElement("code")).textContent = f.message;
    failures.appendChild(row); }
  document.body.dataset.updated = String(stats.now); }
async function poll() {
  try { const answer = await fetch("/v1/stats", {cache: "no-store"});
    if (answer.ok) render(await answer.json()); }
  catch (err) { document.getElementById("summary").textContent = "cannot reach /v1/stats: " + err; }
  setTimeout(poll, 2000); }
document.getElementById("legend").replaceChildren(...STATUSES.map(s => { const span = document.createElement("span");
  const dot = document.createElement("span"); dot.className = "dot"; dot.style.background = COLORS[s];
  span.append(dot, s); return span; }));
poll();
</script>
</body></html>
"""
