#!/usr/bin/env bash
# Installs every Debian package that the build, the tests and the demo need.
# Idempotent and quick when everything is present (no apt-get update then).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache clang clang-format libclang-rt-dev
  # libraries (see README: dependency table)
  libboost-dev libssl-dev zlib1g-dev libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev
  libre2-dev libsnappy-dev libxxhash-dev libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  # real parts for tests and the demo
  prometheus prometheus-node-exporter prometheus-pushgateway victoria-metrics
  curl openssl ca-certificates python3 procps
  # the web UI test (headless, tests/e2e/ui_e2e_test.cc)
  chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# kubectl: the machine image may ship one (gcloud's dispatcher, kubectl 1.32). Debian's
# kubernetes-client (1.20) is the fallback; it needs --validate=false.
if ! command -v kubectl >/dev/null 2>&1; then
  missing+=(kubernetes-client)
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
# The Debian packages start services on install; tests start their own instances.
for svc in prometheus prometheus-node-exporter prometheus-pushgateway victoria-metrics; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
