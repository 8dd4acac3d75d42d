#!/usr/bin/env bash
# Installs the Debian packages the tests and the native stack need (servers are started by the project's own
# scripts, never as system services). Safe to re-run: installs only what is missing.
set -euo pipefail

# The exporters give Prometheus the servers' own metrics (the collector's postgresql/redis/rabbitmq receivers are
# not served by the Go module proxy at the pinned version; RabbitMQ has its own Prometheus plugin).
# The ShellCheck package: the tests lint scripts/compose-smoke.sh with it.
packages=(postgresql redis-server rabbitmq-server supervisor gettext-base util-linux prometheus-postgres-exporter prometheus-redis-exporter shellcheck)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: ${packages[*]}"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
