// Shardwise operator UI: a hash-routed single page over the operator's read-only JSON API.
//   #/                                   pools
//   #/pools/<ns>/<name>                  one pool: shard map, handoffs, monitors, autoscaler
//   #/pools/<ns>/<name>/targets?shard=N&q=text   its targets, searchable
// Everything is built with DOM calls (the page's Content-Security-Policy forbids inline
// script and style) and refreshed every 5 s while "auto-refresh" is on.
"use strict";

const REFRESH_MS = 5000;
const app = document.getElementById("app");
const crumbs = document.getElementById("crumbs");
const refreshed = document.getElementById("refreshed");
const auto = document.getElementById("auto");

// el("td", {class: "num", text: "3"}, child, ...): a new element.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

function human(v) {
  if (v === undefined || v === null) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(1);
}

function age(seconds) {
  if (seconds === undefined || seconds === null) return "–";
  seconds = Math.max(0, seconds);  // the browser's clock may be a little behind the operator's
  if (seconds < 90) return seconds.toFixed(seconds < 10 ? 1 : 0) + "s";
  if (seconds < 5400) return Math.round(seconds / 60) + "m";
  return (seconds / 3600).toFixed(1) + "h";
}

function poolHref(p) { return "#/pools/" + encodeURIComponent(p.namespace) + "/" + encodeURIComponent(p.name); }
function targetsHref(ns, name, shard, q) {
  const params = new URLSearchParams();
  if (shard !== undefined && shard !== null && shard !== "") params.set("shard", shard);
  if (q) params.set("q", q);
  const qs = params.toString();
  return "#/pools/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name) + "/targets" + (qs ? "?" + qs : "");
}

async function getJson(url) {
  const r = await fetch(url, {headers: {Accept: "application/json"}});
  let body;
  try { body = await r.json(); } catch (e) { body = {error: "not JSON (" + r.status + ")"}; }
  if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
  return body;
}

function setCrumbs(...parts) {
  crumbs.replaceChildren(...parts.map(([text, href]) => href ? el("a", {href, text}) : el("span", {text})));
}

function stat(k, v, cls) {
  return el("div", {class: "stat"}, el("div", {class: "v " + (cls || ""), text: v}), el("div", {class: "k", text: k}));
}

function conditions(conds) {
  const box = el("div", {});
  for (const c of conds || []) {
    // Degraded is good when False, Progressing either way; every other condition when True.
    const good = c.type === "Degraded" ? c.status === "False" : (c.type === "Progressing" || c.status === "True");
    box.append(el("span", {class: "cond badge " + (good ? "ok" : "bad"), title: (c.reason || "") + (c.message ? ": " + c.message : ""),
      text: c.type + "=" + c.status}));
  }
  return box;
}

// ---- #/ ---------------------------------------------------------------------------------
async function renderPools() {
  setCrumbs(["Pools", null]);
  const data = await getJson("/api/v1/ui/pools");
  const rows = data.pools.map(p => el("tr", {"data-pool": p.namespace + "/" + p.name},
    el("td", {}, el("a", {href: poolHref(p), text: p.namespace + "/" + p.name})),
    el("td", {class: "num", text: p.readyShards + " / " + p.desiredShards}),
    el("td", {class: "num" + (p.lostShards ? " bad" : ""), text: p.lostShards}),
    el("td", {class: "num", text: p.targets}),
    el("td", {class: "num", text: human(p.series)}),
    el("td", {class: "num", text: human(p.samplesPerSecond)}),
    el("td", {class: "num", text: p.handoffs}),
    el("td", {text: p.autoscaling.mode}),
    el("td", {}, conditions(p.conditions))));
  const table = el("table", {id: "pools"},
    el("thead", {}, el("tr", {}, ...["Pool", "Ready / desired", "Lost", "Targets", "Series", "Samples/s", "Handoffs", "Autoscaling", "Conditions"]
      .map((h, i) => el("th", {class: i >= 1 && i <= 6 ? "num" : "", text: h})))),
    el("tbody", {}, ...rows));
  app.replaceChildren(el("h1", {text: "Scrape pools"}),
    data.pools.length ? table : el("p", {class: "muted", text: "No ScrapePool reconciled yet (or this operator replica is not the leader)."}));
}

// ---- #/pools/<ns>/<name> ------------------------------------------------------------------
// A bar of `value` on a 0..scale axis with a mark at `target`; red beyond it only when the
// target is a configured one (`isLimit`), not the mean.
function loadBar(cls, value, target, scale, label, isLimit) {
  const bar = el("div", {class: "bar " + cls, role: "img", "aria-label": label});
  const fill = el("div", {class: "fill" + (isLimit && target > 0 && value > target ? " over" : "")});
  fill.style.width = Math.min(100, scale > 0 ? (100 * value) / scale : 0) + "%";
  bar.append(fill);
  if (target > 0) {
    const t = el("div", {class: "target", title: "target " + human(target)});
    t.style.left = Math.min(99.5, (100 * target) / scale) + "%";
    bar.append(t);
  }
  return el("div", {class: "barcell"}, bar, el("span", {class: "lbl", text: label}));
}

function shardMap(p) {
  const live = p.shardList.filter(s => s.series !== undefined);
  const tSeries = p.autoscaling.targetSeriesPerShard || 0;
  const tSps = p.autoscaling.targetSamplesPerSecondPerShard || 0;
  // Without a configured target the bar compares each shard with the mean of the live ones.
  const mean = (f) => live.length ? live.reduce((a, s) => a + s[f], 0) / live.length : 0;
  const refSeries = tSeries || mean("series");
  const refSps = tSps || mean("samplesPerSecond");
  const maxOf = (f, ref) => Math.max(ref * 1.25, ...live.map(s => s[f]), 1);
  const scaleSeries = maxOf("series", refSeries), scaleSps = maxOf("samplesPerSecond", refSps);
  const rows = p.shardList.map(s => {
    const lost = s.phase === "Lost";
    const hasLoad = s.series !== undefined;
    const loadCells = hasLoad ? [
      el("td", {}, loadBar("series", s.series, refSeries, scaleSeries,
        human(s.series) + " series" + (refSeries ? " / " + human(refSeries) + (tSeries ? " target" : " mean") : ""), tSeries > 0)),
      el("td", {}, loadBar("sps", s.samplesPerSecond, refSps, scaleSps,
        human(s.samplesPerSecond) + " samples/s" + (refSps ? " / " + human(refSps) + (tSps ? " target" : " mean") : ""), tSps > 0)),
    ] : [el("td", {colspan: "2", class: "noload", text: lost ? "no load shown: shard lost" + (s.downReason ? " (" + s.downReason + ")" : "") : "no report yet"})];
    return el("tr", {class: lost ? "lost" : "", "data-shard": s.index, "data-phase": s.phase,
        "data-targets": s.targets, "data-series": hasLoad ? s.series : "", "data-sps": hasLoad ? s.samplesPerSecond : ""},
      el("td", {}, el("a", {href: targetsHref(p.namespace, p.name, s.index), text: "shard " + s.index})),
      el("td", {}, el("span", {class: "badge phase-" + s.phase, text: s.phase})),
      el("td", {class: "num", title: s.pods.join(", "), text: s.replicasAlive + " / " + s.pods.length}),
      el("td", {class: "num"}, el("a", {href: targetsHref(p.namespace, p.name, s.index), text: s.targets}),
        s.handingOff ? el("span", {class: "muted", text: " +" + s.handingOff + " handing off"}) : null),
      ...loadCells,
      el("td", {class: "num", text: hasLoad ? age(s.heartbeatAgeSeconds) : (s.heartbeatAgeSeconds !== undefined ? age(s.heartbeatAgeSeconds) : "–")}),
      el("td", {class: "num" + (hasLoad && s.remoteWriteLagSeconds > 30 ? " warn" : ""), text: hasLoad ? s.remoteWriteLagSeconds.toFixed(1) + "s" : "–"}),
      el("td", {class: "num hide-narrow", text: hasLoad ? Math.round(100 * s.saturation) + "%" : "–"}));
  });
  return el("table", {id: "shard-map"},
    el("thead", {}, el("tr", {}, ...["Shard", "Phase", "Replicas", "Targets", "Series", "Samples/s", "Heartbeat age", "RW lag", "Saturation"]
      .map((h, i) => el("th", {class: (i === 2 || i === 3 || i >= 6 ? "num" : "") + (i === 8 ? " hide-narrow" : ""), text: h})))),
    el("tbody", {}, ...rows));
}

function handoffTable(p) {
  if (!p.handoffList.length) return el("p", {class: "muted", id: "handoffs", text: "No handoff in flight."});
  return el("table", {id: "handoffs"},
    el("thead", {}, el("tr", {}, ...["Target", "From", "To", "Age", "Cutover"].map(h => el("th", {text: h})))),
    el("tbody", {}, ...p.handoffList.map(h => el("tr", {},
      el("td", {}, el("span", {class: "mono", text: (h.job ? h.job + " " : "") + (h.address || h.target)})),
      el("td", {}, el("a", {href: targetsHref(p.namespace, p.name, h.from), text: "shard " + h.from})),
      el("td", {}, el("a", {href: targetsHref(p.namespace, p.name, h.to), text: "shard " + h.to})),
      el("td", {text: age(h.ageSeconds)}),
      el("td", {text: h.cutoverUnixMs ? new Date(h.cutoverUnixMs).toLocaleTimeString() : "waiting for the new owner's first scrape"})))));
}

function monitorTable(p) {
  if (!p.monitorList.length) return el("p", {class: "muted", id: "monitors", text: "The pool's selectors pick no ServiceMonitor or PodMonitor."});
  return el("table", {id: "monitors"},
    el("thead", {}, el("tr", {}, ...["Monitor", "Kind", "Valid", "Targets", "Problem"].map((h, i) => el("th", {class: i === 3 ? "num" : "", text: h})))),
    el("tbody", {}, ...p.monitorList.map(m => el("tr", {"data-valid": m.valid},
      el("td", {}, el("a", {href: targetsHref(p.namespace, p.name, "", m.kind === "ServiceMonitor" ? "serviceMonitor/" + m.namespace + "/" + m.name + "/" : "podMonitor/" + m.namespace + "/" + m.name + "/"), text: m.namespace + "/" + m.name})),
      el("td", {text: m.kind}),
      el("td", {}, el("span", {class: "badge " + (m.valid ? "ok" : "bad"), text: m.valid ? "valid" : "invalid"})),
      el("td", {class: "num", text: m.targets}),
      el("td", {text: m.message || ""})))));
}

// The smallest of 1, 2, 2.5, 5 times a power of ten that is >= v: round axis labels.
function niceCeil(v) {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// Shards (steps, right axis) and series (area, left axis) over the kept history; a dashed
// red line marks each autoscaler decision (hover: its reason).
function autoscalerChart(p) {
  const h = p.history;
  const W = 1000, H = 240, L = 56, R = 40, T = 12, B = 26;
  const box = svg("svg", {class: "chart", id: "autoscaler-chart", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img",
    "aria-label": "shards and series over time"});
  if (h.length < 2) {
    box.append(svg("text", {x: L, y: H / 2, class: "axis", text: "Collecting history… (one point per reconcile, every few seconds)"}));
    return box;
  }
  const t0 = h[0].t, t1 = h[h.length - 1].t;
  const x = t => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
  const maxSeries = niceCeil(Math.max(1, ...h.map(q => q.series)));
  // Whole shard counts on the right axis: four grid steps of a whole number of shards.
  const maxShards = 4 * Math.ceil(Math.max(1, ...h.map(q => Math.max(q.shards, q.desired)), p.autoscaling.maxShards || 0) / 4);
  const ys = v => H - B - (v / maxSeries) * (H - T - B);
  const yk = v => H - B - (v / maxShards) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const y = T + (i * (H - T - B)) / 4;
    box.append(svg("line", {class: "grid", x1: L, x2: W - R, y1: y, y2: y}));
    box.append(svg("text", {class: "axis", x: L - 6, y: y + 4, "text-anchor": "end", text: human(maxSeries * (1 - i / 4))}));
    box.append(svg("text", {class: "axis", x: W - R + 6, y: y + 4, text: human(maxShards * (1 - i / 4))}));
  }
  let area = `M${x(t0)},${ys(0)}`;
  for (const q of h) area += ` L${x(q.t)},${ys(q.series)}`;
  area += ` L${x(t1)},${ys(0)} Z`;
  box.append(svg("path", {class: "series", d: area}));
  const steps = (f) => {
    let d = `M${x(h[0].t)},${yk(h[0][f])}`;
    for (let i = 1; i < h.length; i++) d += ` H${x(h[i].t)} V${yk(h[i][f])}`;
    return d;
  };
  box.append(svg("path", {class: "desired", d: steps("desired")}));
  box.append(svg("path", {class: "shards", d: steps("shards")}));
  for (const q of h.filter(q => q.decision)) {
    box.append(svg("line", {class: "decision", x1: x(q.t), x2: x(q.t), y1: T, y2: H - B}, svg("title", {text: q.decision})));
  }
  box.append(svg("text", {class: "axis", x: L, y: H - 6, text: new Date(t0).toLocaleTimeString()}));
  box.append(svg("text", {class: "axis", x: W - R, y: H - 6, "text-anchor": "end", text: new Date(t1).toLocaleTimeString()}));
  return box;
}

function decisions(p) {
  const a = p.autoscalingStatus;
  if (!a) {
    return el("p", {class: "muted", text: p.autoscaling.mode === "Off"
      ? "Autoscaling is off for this pool (spec.autoscaling.mode: Off)."
      : "Mode " + p.autoscaling.mode + ": no recommendation yet (the autoscaler waits for load reports)."});
  }
  const list = el("ul", {id: "decisions"});
  for (const r of a.recommendations || []) {  // newest first
    list.append(el("li", {}, el("span", {class: "mono", text: r.time + " "}), "recommended " + r.shards + " shards: " + (r.reason || "")));
  }
  return el("div", {},
    el("p", {}, "Mode ", el("b", {text: a.mode || p.autoscaling.mode}), ", desired ", el("b", {text: a.desiredShards ?? "–"}),
      a.lastScaleTime ? " · last scale " + a.lastScaleTime + " (" + (a.lastScaleReason || "") + ")" : ""),
    a.reason ? el("p", {class: "muted", text: "Now: " + a.reason}) : null,
    a.held ? el("p", {class: "warn", text: "Held: " + a.held}) : null,
    list.childElementCount ? list : null);
}

async function renderPool(ns, name) {
  setCrumbs(["Pools", "#/"], [ns + "/" + name, null]);
  const p = await getJson("/api/v1/ui/pools/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name));
  app.replaceChildren(
    el("h1", {text: "ScrapePool " + ns + "/" + name}),
    el("div", {class: "stats"},
      stat("shards ready / desired", p.readyShards + " / " + p.desiredShards, p.readyShards < p.desiredShards ? "warn" : "ok"),
      stat("lost shards", p.lostShards, p.lostShards ? "bad" : ""),
      stat("targets", p.targets),
      stat("active series", human(p.series)),
      stat("samples / s", human(p.samplesPerSecond)),
      stat("handoffs in flight", p.handoffs),
      stat("autoscaling", p.autoscaling.mode + (p.autoscaling.maxShards ? " (" + p.autoscaling.minShards + "–" + p.autoscaling.maxShards + ")" : ""))),
    conditions(p.conditions),
    el("h2", {text: "Shard map"}),
    el("div", {class: "card"}, shardMap(p),
      el("p", {class: "muted", text: "Bars: each shard's load; the black mark is " +
        (p.autoscaling.targetSeriesPerShard ? "the autoscaler's target per shard." : "the mean over live shards (no target configured).") +
        " Lost shards show no load. "}, el("a", {href: targetsHref(ns, name), text: "All targets →"}))),
    el("h2", {text: "Handoffs in flight"}), handoffTable(p),
    el("h2", {text: "Autoscaler"}),
    el("div", {class: "legend muted"}, el("span", {}, el("i", {class: "sw shards"}), "shards"), el("span", {}, el("i", {class: "sw desired"}), "desired (.spec.shards)"),
      el("span", {}, el("i", {class: "sw series"}), "active series (left axis)"), el("span", {}, el("i", {class: "sw decision"}), "scale decision")),
    autoscalerChart(p), decisions(p),
    el("h2", {text: "Monitors"}), monitorTable(p));
}

// ---- #/pools/<ns>/<name>/targets ----------------------------------------------------------
let targetsView = null;  // {key, input, select, results}: kept across refreshes so typing is not lost

async function renderTargets(ns, name, params) {
  setCrumbs(["Pools", "#/"], [ns + "/" + name, "#/pools/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name)], ["Targets", null]);
  const key = ns + "/" + name;
  if (!targetsView || targetsView.key !== key || !app.contains(targetsView.results)) {
    const pool = await getJson("/api/v1/ui/pools/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name));
    const input = el("input", {type: "search", id: "target-search", placeholder: "Search job, address or labels", value: params.get("q") || ""});
    const select = el("select", {id: "shard-select"}, el("option", {value: "", text: "all shards"}),
      ...pool.shardList.map(s => el("option", {value: s.index, text: "shard " + s.index + " (" + s.phase + ")"})));
    select.value = params.get("shard") || "";
    const results = el("div", {});
    const update = () => { history.replaceState(null, "", targetsHref(ns, name, select.value, input.value)); loadTargets(ns, name, select.value, input.value); };
    input.addEventListener("input", update);
    select.addEventListener("change", update);
    targetsView = {key, input, select, results};
    app.replaceChildren(el("h1", {text: "Targets of " + key}), el("div", {class: "toolbar"}, input, select), results);
  }
  await loadTargets(ns, name, targetsView.select.value, targetsView.input.value);
}

async function loadTargets(ns, name, shard, q) {
  const qs = new URLSearchParams({limit: "500"});
  if (shard !== "") qs.set("shard", shard);
  if (q) qs.set("q", q);
  const d = await getJson("/api/v1/ui/pools/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name) + "/targets?" + qs);
  const now = Date.now();
  const rows = d.targets.map(t => el("tr", {"data-target": t.id, "data-shard": t.shard},
    el("td", {}, el("span", {class: "mono", text: t.address})),
    el("td", {text: t.job}),
    el("td", {}, t.shard >= 0 ? el("a", {href: targetsHref(ns, name, t.shard), text: "shard " + t.shard}) : el("span", {class: "bad", text: "unassigned"})),
    el("td", {class: "num", text: t.series !== undefined ? human(t.series) : "–"}),
    el("td", {class: "num", text: t.lastSuccessUnixMs ? age((now - t.lastSuccessUnixMs) / 1000) + " ago" : "never"}),
    el("td", {class: t.lastError ? "bad" : "", text: t.lastError || ""}),
    el("td", {class: "labels mono hide-narrow", text: t.labels})));
  targetsView.results.replaceChildren(
    el("p", {class: "muted", id: "target-count", text: `${d.matched} of ${d.total} targets match` + (d.shown < d.matched ? ` (first ${d.shown} shown)` : "")}),
    el("table", {id: "targets"},
      el("thead", {}, el("tr", {}, ...["Address", "Job", "Shard", "Series", "Last success", "Last error", "Labels"].map((h, i) => el("th", {class: (i === 3 || i === 4 ? "num" : "") + (i === 6 ? " hide-narrow" : ""), text: h})))),
      el("tbody", {}, ...rows)));
}

// ---- routing and refresh ---------------------------------------------------------------
async function route() {
  const hash = location.hash || "#/";
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === "pools" && parts.length === 4 && parts[3] === "targets") await renderTargets(parts[1], parts[2], params);
    else if (parts[0] === "pools" && parts.length === 3) await renderPool(parts[1], parts[2]);
    else await renderPools();
    refreshed.textContent = "updated " + new Date().toLocaleTimeString();
    document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
  } catch (e) {
    app.replaceChildren(el("div", {class: "error", id: "error", text: "Cannot load " + hash + ": " + e.message}));
  }
}

window.addEventListener("hashchange", () => { targetsView = null; route(); });
setInterval(() => { if (auto.checked && document.visibilityState !== "hidden") route(); }, REFRESH_MS);
route();
