// /targets: the scraper's targets as Prometheus shows them — grouped by job (scrape pool),
// with health, last scrape, duration, error and series per target; filterable. Data:
// /api/v1/targets (Prometheus's shape).
"use strict";

const filter = document.getElementById("filter");
const unhealthy = document.getElementById("unhealthy");
const jobsBox = document.getElementById("jobs");
const summary = document.getElementById("summary");
let last = null;
const collapsed = new Set();

function labelsCell(labels) {
  const td = el("td", {class: "labels"});
  for (const [k, v] of Object.entries(labels || {}).sort()) td.append(el("span", {text: k + '="' + v + '"'}));
  return td;
}

function matches(t, q) {
  if (unhealthy.checked && t.health === "up") return false;
  if (!q) return true;
  const hay = (t.scrapeUrl + " " + JSON.stringify(t.labels) + " " + (t.lastError || "")).toLowerCase();
  return hay.includes(q);
}

function render() {
  if (!last) return;
  const q = filter.value.trim().toLowerCase();
  const now = Date.now();
  const byJob = new Map();
  for (const t of last.data.activeTargets) {
    if (!byJob.has(t.scrapePool)) byJob.set(t.scrapePool, []);
    byJob.get(t.scrapePool).push(t);
  }
  const all = last.data.activeTargets;
  const up = all.filter(t => t.health === "up").length;
  summary.textContent = `${all.length} targets in ${byJob.size} jobs, ${up} up, ${all.length - up} not up`;
  const groups = [];
  for (const job of [...byJob.keys()].sort()) {
    const targets = byJob.get(job);
    const shown = targets.filter(t => matches(t, q));
    if (!shown.length) continue;
    const jobUp = targets.filter(t => t.health === "up").length;
    const rows = shown.sort((a, b) => a.scrapeUrl.localeCompare(b.scrapeUrl)).map(t => {
      const lastMs = Date.parse(t.lastScrape);
      const never = !t.lastScrape || isNaN(lastMs) || lastMs <= 0;
      return el("tr", {"data-health": t.health, "data-url": t.scrapeUrl},
        el("td", {}, el("a", {href: t.scrapeUrl, class: "mono", text: t.scrapeUrl})),
        el("td", {}, el("span", {class: "badge " + t.health, text: t.health.toUpperCase()})),
        labelsCell(t.labels),
        el("td", {class: "num", text: never ? "never" : ago(now - lastMs)}),
        el("td", {class: "num", text: never ? "–" : (1000 * t.lastScrapeDuration).toFixed(1) + "ms"}),
        el("td", {class: "num", text: human(t.seriesCount)}),
        el("td", {class: "err", text: t.lastError || ""}));
    });
    const d = el("details", {"data-job": job},
      el("summary", {}, job + " ", el("span", {class: jobUp === targets.length ? "muted" : "err", text: `(${jobUp}/${targets.length} up)`})),
      el("table", {},
        el("thead", {}, el("tr", {}, ...["Endpoint", "State", "Labels", "Last scrape", "Scrape duration", "Series", "Error"]
          .map((h, i) => el("th", {class: i >= 3 && i <= 5 ? "num" : "", text: h})))),
        el("tbody", {}, ...rows)));
    d.open = !collapsed.has(job);
    d.addEventListener("toggle", () => { if (d.open) collapsed.delete(job); else collapsed.add(job); });
    groups.push(d);
  }
  jobsBox.replaceChildren(...(groups.length ? groups : [el("p", {class: "muted", text: all.length ? "No target matches the filter." : "No targets (yet)."})]));
}

filter.addEventListener("input", render);
unhealthy.addEventListener("change", render);
refreshEvery(5000, async () => { last = await getJson("/api/v1/targets"); render(); });
