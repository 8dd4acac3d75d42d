#!/usr/bin/env bash
# Makes a fresh machine ready for `npm test` and `npm run stack:up`, and is a no-op for whatever is already there:
#   1. Debian packages (PostgreSQL, Redis, RabbitMQ, supervisor)       scripts/install-system-deps.sh
#   2. node_modules, when absent or older than package-lock.json       npm ci
#   3. the backends built from the Go module proxy, cached by version  native/build.sh (skipped with --no-backends)
# Each step says what it does and how long it took.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '[bootstrap %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

backends=1
for arg in "$@"; do
  case "$arg" in
    --no-backends) backends=0 ;;
    *) echo "usage: scripts/bootstrap.sh [--no-backends]" >&2; exit 2 ;;
  esac
done

start=$SECONDS
step "system packages"
bash scripts/install-system-deps.sh >&2

# npm ci records the lock it installed from; a different package-lock.json means node_modules is stale.
stamp=node_modules/.lookout-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -d node_modules ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  step "node_modules up to date"
else
  step "node_modules missing or stale: npm ci"
  t=$SECONDS
  npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
  step "npm ci: $((SECONDS - t)) s"
fi

if [ "$backends" -eq 1 ]; then
  step "backends (collector, Prometheus, Alertmanager, Loki, Tempo) and pint: building what the cache lacks"
  t=$SECONDS
  bash native/build.sh
  step "native build: $((SECONDS - t)) s"
fi
step "ready in $((SECONDS - start)) s"
