#include "server/status_page.h"

namespace distributo::server {
namespace {

constexpr absl::string_view kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Distributo master</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .6em; }
  h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
  .cards { display: flex; flex-wrap: wrap; gap: .6em; }
  .card { border: 1px solid #ddd; border-radius: 6px; padding: .5em .9em;
          min-width: 7em; }
  .card b { display: block; font-size: 1.5em; }
  .bar { height: 10px; background: #eee; border-radius: 5px; margin: .8em 0;
         overflow: hidden; }
  .bar div { height: 100%; background: #3a7; width: 0; }
  table { border-collapse: collapse; }
  th, td { text-align: left; padding: .2em .8em; border-bottom: 1px solid #eee; }
  td.num { text-align: right; }
  #state.bad { color: #b22; }
  svg { border: 1px solid #ddd; background: #fcfcfc; }
  .muted { color: #888; }
</style>
</head>
<body>
<h1>Distributo master <span id="state" class="muted">connecting…</span></h1>
<div class="cards">
  <div class="card">done<b id="done">-</b></div>
  <div class="card">total<b id="total">-</b></div>
  <div class="card">pending<b id="pending">-</b></div>
  <div class="card">in flight<b id="leased">-</b></div>
  <div class="card">failed attempts<b id="failures">-</b></div>
  <div class="card">dead<b id="dead">-</b></div>
  <div class="card">workers<b id="workers-count">-</b></div>
  <div class="card">tasks/s<b id="rate">-</b></div>
  <div class="card">ETA<b id="eta">-</b></div>
</div>
<div class="bar"><div id="progress"></div></div>
<h2>Throughput, last 10 minutes</h2>
<svg id="chart" width="600" height="120" viewBox="0 0 600 120">
  <polyline id="line" fill="none" stroke="#3a7" stroke-width="2" points=""/>
</svg>
<h2>Workers</h2>
<table id="workers">
  <thead><tr><th>name</th><th>address</th><th>slots</th><th>in flight</th>
  <th>done</th><th>failed</th><th>last seen</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Recent failures</h2>
<table id="failures-list"><tbody></tbody></table>
<h2>Dead tasks</h2>
<table id="dead-list"><tbody></tbody></table>
<script>
"use strict";
const $ = (id) => document.getElementById(id);

function cell(row, text, numeric) {
  const td = row.insertCell();
  td.textContent = text;
  if (numeric) td.className = "num";
}

function fillTable(id, rows, columns) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const item of rows) {
    const row = body.insertRow();
    for (const [key, numeric] of columns) cell(row, item[key], numeric);
  }
}

// Tasks per second between consecutive samples.
function rates(samples) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i].t - samples[i - 1].t;
    if (dt > 0) out.push((samples[i].finished - samples[i - 1].finished) / dt);
  }
  return out;
}

function drawChart(samples) {
  const r = rates(samples);
  const top = Math.max(1, ...r);
  const step = 600 / Math.max(1, r.length - 1);
  $("line").setAttribute("points", r.map((v, i) =>
      `${(i * step).toFixed(1)},${(118 - 110 * v / top).toFixed(1)}`).join(" "));
  const recent = r.slice(-10);
  return recent.length ? recent.reduce((a, b) => a + b) / recent.length : 0;
}

function render(s) {
  const c = s.counts;
  for (const key of ["done", "total", "pending", "leased", "failures", "dead"]) {
    $(key).textContent = c[key];
  }
  $("workers-count").textContent = c.workers;
  const finished = c.done + c.dead;
  $("progress").style.width = (c.total ? 100 * finished / c.total : 100) + "%";
  const rate = drawChart(s.throughput);
  $("rate").textContent = rate.toFixed(1);
  $("eta").textContent = c.complete ? "done" : rate > 0
      ? Math.round((c.total - finished) / rate) + " s" : "-";
  const state = $("state");
  state.textContent = c.complete ? "job complete" : s.draining ? "draining"
      : s.serving ? "serving" : "NOT serving";
  state.className = s.serving || c.complete ? "muted" : "bad";
  fillTable("workers", s.workers.filter((w) => w.connected),
            [["name"], ["address"], ["slots", 1], ["in_flight", 1],
             ["done", 1], ["failed", 1], ["last_seen"]]);
  fillTable("failures-list", s.recent_failures,
            [["time"], ["task_id"], ["worker"], ["code"], ["message"]]);
  fillTable("dead-list", s.dead, [["time"], ["task_id"], ["code"], ["message"]]);
  document.body.dataset.updated = String(Date.now());
}

// A master with tokens wants an operator's: open the page as /#token=TOKEN
// (a fragment never leaves the browser) and it goes with every request.
// (decodeURIComponent, unlike URLSearchParams, keeps a base64 "+" a "+".)
const fragment = location.hash.match(/token=([^&]*)/);
const token = fragment ? decodeURIComponent(fragment[1]) : null;
const headers = token ? {Authorization: "Bearer " + token} : {};

async function poll() {
  try {
    const response = await fetch("/api/status", {cache: "no-store", headers});
    if (!response.ok) throw new Error(await response.text());
    render(await response.json());
  } catch (e) {
    $("state").textContent = e instanceof TypeError ? "master unreachable"
                                                    : String(e.message);
    $("state").className = "bad";
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
)html";

}  // namespace

absl::string_view StatusPageHtml() { return kPage; }

}  // namespace distributo::server
