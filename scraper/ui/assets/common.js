// Helpers shared by the scraper's pages (the Content-Security-Policy forbids inline script
// and style, so everything is built with DOM calls).
"use strict";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function human(v) {
  if (v === undefined || v === null) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function ago(ms) {
  const s = Math.max(0, ms) / 1000;  // clocks of browser and scraper may differ a little
  if (s < 90) return s.toFixed(s < 10 ? 1 : 0) + "s ago";
  if (s < 5400) return Math.round(s / 60) + "m ago";
  return (s / 3600).toFixed(1) + "h ago";
}

async function getJson(url) {
  const r = await fetch(url, {headers: {Accept: "application/json"}});
  const body = await r.json().catch(() => ({error: "not JSON (" + r.status + ")"}));
  if (!r.ok || body.status === "error") throw new Error(body.error || "HTTP " + r.status);
  return body;
}

// Runs `render` now and every `ms` while the page is visible (and #auto, if any, is ticked).
function refreshEvery(ms, render) {
  const stamp = document.getElementById("refreshed");
  const run = async () => {
    try {
      await render();
      if (stamp) stamp.textContent = "updated " + new Date().toLocaleTimeString();
      document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
    } catch (e) {
      if (stamp) stamp.textContent = "update failed: " + e.message;
    }
  };
  run();
  setInterval(() => {
    const auto = document.getElementById("auto");
    if ((!auto || auto.checked) && document.visibilityState !== "hidden") run();
  }, ms);
  return run;
}
