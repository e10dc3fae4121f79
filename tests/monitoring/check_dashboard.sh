#!/usr/bin/env bash
# Checks the shipped Grafana dashboard (manifests/monitoring/grafana-dashboard.json):
#   - valid JSON with the fields Grafana needs (uid, title, panels with unique ids, a
#     Prometheus datasource variable, every panel inside the 24-column grid);
#   - every panel has at least one query, and every query parses: Grafana's variables are
#     replaced by sample values and each query becomes a recording rule of a throwaway rule
#     file that the real `promtool check rules` validates;
#   - every metric a query names is a Shardwise metric the binaries export: that part runs
#     in ui_e2e_test against the /metrics of a live operator and scraper, with the list this
#     script prints with --metrics.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dashboard="$root/manifests/monitoring/grafana-dashboard.json"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$dashboard" "$work/rules.yaml" "${1:-}" <<'PY'
import json, re, sys
path, rules_out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    d = json.load(open(path))
except ValueError as e:
    sys.exit(f"check_dashboard: {path} is not valid JSON: {e}")
problems = []
for key in ("uid", "title", "panels", "templating", "schemaVersion"):
    if key not in d:
        problems.append(f"missing top-level {key!r}")
variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
if variables.get("datasource", {}).get("type") != "datasource" or variables["datasource"].get("query") != "prometheus":
    problems.append("needs a 'datasource' variable of type datasource, query prometheus")
ids, exprs = set(), []
for p in d.get("panels", []):
    pid = p.get("id")
    if pid in ids:
        problems.append(f"panel id {pid} used twice")
    ids.add(pid)
    g = p.get("gridPos", {})
    if g.get("x", 0) + g.get("w", 0) > 24:
        problems.append(f"panel {p.get('title')!r} is wider than the grid")
    if p.get("type") == "row":
        continue
    if p.get("datasource", {}).get("uid") != "${datasource}":
        problems.append(f"panel {p.get('title')!r} does not use the datasource variable")
    targets = p.get("targets", [])
    if not targets:
        problems.append(f"panel {p.get('title')!r} has no query")
    for t in targets:
        if not t.get("expr"):
            problems.append(f"panel {p.get('title')!r} has an empty query")
        else:
            exprs.append((p.get("title"), t["expr"]))
if problems:
    sys.exit("check_dashboard: " + "; ".join(problems))

# Grafana variables -> values PromQL accepts.
subst = {"$__rate_interval": "5m", "$__interval": "1m", "$namespace": "monitoring", "$pool": "main"}
def concrete(e):
    for k, v in subst.items():
        e = e.replace(k, v)
    if "$" in e:
        sys.exit(f"check_dashboard: unknown variable in {e!r}")
    return e
with open(rules_out, "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (title, e) in enumerate(exprs):
        f.write(f"      - record: dashboard:panel_{i}\n        expr: {json.dumps(concrete(e))}\n")

names = set()
for _, e in exprs:
    # Metric names: identifiers not followed by '(' (functions), not label names, not keywords.
    stripped = re.sub(r'\{[^}]*\}', '', e)           # label matchers
    stripped = re.sub(r'by \([^)]*\)', '', stripped)   # grouping labels
    stripped = re.sub(r'\[[^\]]*\]', '', stripped)     # ranges
    for m in re.finditer(r'[a-zA-Z_:][a-zA-Z0-9_:]*', stripped):
        word = m.group(0)
        rest = stripped[m.end():].lstrip()
        if rest.startswith("(") or word in ("by", "without", "on", "ignoring", "and", "or", "unless", "bool", "le"):
            continue
        names.add(word)
bad = sorted(n for n in names if not n.startswith("shardwise_"))
if bad:
    sys.exit(f"check_dashboard: queries name metrics that are not Shardwise's: {bad}")
if mode == "--metrics":
    print("\n".join(sorted(names)))
else:
    print(f"check_dashboard: {len(exprs)} queries in {len(ids)} panels; metrics: {', '.join(sorted(names))}")
PY
[[ "${1:-}" == "--metrics" ]] && exit 0
promtool check rules "$work/rules.yaml"
