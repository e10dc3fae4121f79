#!/usr/bin/env bash
# Checks the shipped alerting rules with the real promtool: the PrometheusRule's spec is an
# ordinary rule file; `promtool check rules` validates it and `promtool test rules` runs the
# unit tests in alerts_test.yaml (each alert fires on its input, quiet on a healthy one).
# Also checks that every alert has a runbook paragraph in docs/runbooks.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The rule file is everything under `spec:`, one indentation level out.
awk 'found { sub(/^  /, ""); print } /^spec:/ { found = 1 }' \
  "$root/manifests/monitoring/prometheusrule.yaml" >"$work/rules.yaml"
cp "$root/tests/monitoring/alerts_test.yaml" "$work/"
promtool check rules "$work/rules.yaml"
(cd "$work" && promtool test rules alerts_test.yaml)
missing=0
for alert in $(grep -oE 'alert: [A-Za-z]+' "$work/rules.yaml" | cut -d' ' -f2); do
  anchor=$(echo "$alert" | tr '[:upper:]' '[:lower:]')
  if ! grep -q "^## $alert\$" "$root/docs/runbooks.md"; then
    echo "check_rules: docs/runbooks.md has no '## $alert' section (anchor #$anchor)" >&2
    missing=1
  fi
  if ! grep -q "alertname: $alert\$" "$work/alerts_test.yaml"; then
    echo "check_rules: alerts_test.yaml never fires $alert" >&2
    missing=1
  fi
done
exit $missing
