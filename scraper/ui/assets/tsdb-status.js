// /tsdb-status: the head's cardinality as Prometheus's TSDB status page shows it. Data:
// /api/v1/status/tsdb.
"use strict";

const box = document.getElementById("status");

function topTable(title, id, rows, unit) {
  const max = Math.max(1, ...rows.map(r => r.value));
  return el("div", {class: "card"}, el("h2", {text: title}),
    el("table", {id},
      el("thead", {}, el("tr", {}, el("th", {text: "Name"}), el("th", {class: "num", text: unit}), el("th", {class: "barcol", text: ""}))),
      el("tbody", {}, ...rows.map(r => {
        const bar = el("div", {class: "bar"});
        bar.style.width = (100 * r.value / max) + "%";
        return el("tr", {"data-name": r.name}, el("td", {class: "mono", text: r.name}), el("td", {class: "num", text: human(r.value)}), el("td", {class: "barcol"}, bar));
      }))));
}

refreshEvery(15000, async () => {
  const d = (await getJson("/api/v1/status/tsdb")).data;
  const h = d.headStats;
  const span = h.minTime !== undefined ? ((h.maxTime - h.minTime) / 60000).toFixed(1) + " min" : "–";
  box.replaceChildren(
    el("div", {class: "stats"},
      el("div", {class: "stat"}, el("div", {class: "v", id: "num-series", text: human(h.numSeries)}), el("div", {class: "k", text: "head series"})),
      el("div", {class: "stat"}, el("div", {class: "v", text: human(h.chunkCount)}), el("div", {class: "k", text: "head chunks"})),
      el("div", {class: "stat"}, el("div", {class: "v", text: human(h.numLabelPairs)}), el("div", {class: "k", text: "label pairs"})),
      el("div", {class: "stat"}, el("div", {class: "v", text: span}), el("div", {class: "k", text: "time span in the head"}))),
    el("div", {class: "grid"},
      topTable("Top metric names by series", "by-metric", d.seriesCountByMetricName, "Series"),
      topTable("Top label pairs by series", "by-pair", d.seriesCountByLabelValuePair, "Series"),
      topTable("Top label names by series", "by-label-series", d.seriesCountByLabelName, "Series"),
      topTable("Top label names by distinct values", "by-label-values", d.labelValueCountByLabelName, "Values")));
});
