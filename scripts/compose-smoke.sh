#!/usr/bin/env bash
# Smoke test of the Docker stack: build and start it, place one order through the gateway, and wait for that
# request's trace in Tempo with spans from gateway, catalog, orders and fulfillment. The stack is removed, volumes
# included, on exit (SMOKE_KEEP=1 leaves it up). Needs Docker with Compose >= 2.17 and curl.
#
#   bash scripts/compose-smoke.sh [compose options]     e.g. --env-file versions.env --env-file secrets.env
#
# Without options it runs on versions.env and throwaway passwords of its own (scripts/compose-secrets.sh into a
# temporary file, deleted with the stack).
# It is a compose project of its own (COMPOSE_PROJECT_NAME, default lookout-smoke), so a stack you run is left
# alone; it publishes the same ports though (GATEWAY_PORT, GRAFANA_PORT to move them). Tempo is not published:
# the trace is read from inside the gateway container (Node's fetch on compose's network), so no overlay is needed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

project="${COMPOSE_PROJECT_NAME:-lookout-smoke}"
gateway="http://127.0.0.1:${GATEWAY_PORT:-8080}"
api_key="${SMOKE_API_KEY:-lookout-demo-write-key}"
up_timeout="${SMOKE_UP_TIMEOUT:-900}"
trace_timeout="${SMOKE_TRACE_TIMEOUT:-120}"
# The published demo keys work only in demo mode: this throwaway stack runs in it unless told otherwise.
export LOOKOUT_DEMO="${LOOKOUT_DEMO:-true}"
work="$(mktemp -d)"
compose_args=("$@")

compose() {
  # The ${a[@]+...} form: an empty array under `set -u` in bash 3.2 (macOS).
  docker compose -p "$project" ${compose_args[@]+"${compose_args[@]}"} "$@"
}

log() { printf 'smoke: %s\n' "$*" >&2; }

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    log "FAILED; the stack's state and the shop's last log lines:"
    compose ps -a >&2 || true
    compose logs --no-color --tail 30 gateway catalog orders fulfillment >&2 || true
  fi
  if [ "${SMOKE_KEEP:-0}" = 1 ]; then
    # Its passwords file (if generated) stays too: compose needs it to take the stack down.
    log "left running (SMOKE_KEEP=1); remove it with: docker compose -p $project ${compose_args[*]+${compose_args[*]}} down -v"
  else
    compose down -v --remove-orphans >&2 || log "docker compose down failed"
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$#" -eq 0 ] && [ -f scripts/compose-secrets.sh ]; then
  bash scripts/compose-secrets.sh "$work/secrets.env" >/dev/null
  compose_args=(--env-file versions.env --env-file "$work/secrets.env")
fi

hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

log "building and starting project $project (up to ${up_timeout}s)"
compose up -d --build --wait --wait-timeout "$up_timeout"

# One order, inside a trace of our own. The gateway may start a new trace instead (INBOUND_TRACE_CONTEXT=link at
# the public edge); it then names that trace in the `traceresponse` header, which wins.
order_id=""
trace_id=""
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
  trace_id="$(hex 16)"
  status="$(curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' --max-time 10 \
    -H "X-API-Key: $api_key" -H "Idempotency-Key: smoke-$trace_id" -H 'Content-Type: application/json' \
    -H "traceparent: 00-$trace_id-$(hex 8)-01" \
    -d '{"customerEmail":"smoke@example.com","items":[{"productId":42,"quantity":1}]}' \
    "$gateway/api/orders" || true)"
  if [ "$status" = 201 ]; then
    order_id="$(sed -n 's/.*"id":\([0-9][0-9]*\).*/\1/p' "$work/body")"
    break
  fi
  log "attempt $attempt: POST $gateway/api/orders answered ${status:-nothing}: $(cat "$work/body" 2>/dev/null || true)"
  # Only a stack still warming up is worth waiting for: a 4xx is a wrong key or request.
  case "$status" in 4*) exit 1 ;; esac
  sleep 5
done
[ -n "$order_id" ] || { log "no order placed"; exit 1; }

answered="$(tr -d '\r' <"$work/headers" | awk 'tolower($1) == "traceresponse:" { print $2 }' | cut -d- -f2)"
if [ -n "$answered" ]; then trace_id="$answered"; fi
case "$trace_id" in
  *[!0-9a-f]* | "") log "not a trace id: '$trace_id'"; exit 1 ;;
esac
[ "${#trace_id}" -eq 32 ] || { log "not a trace id: '$trace_id'"; exit 1; }
log "order $order_id placed in trace $trace_id; waiting for it in Tempo (up to ${trace_timeout}s)"

# Runs in the gateway container: Tempo answers on compose's network only.
# shellcheck disable=SC2016 # JavaScript, expanded by nobody
tempo_check='
const [traceId, seconds] = process.argv.slice(1);
const want = ["gateway", "catalog", "orders", "fulfillment"];
const deadline = Date.now() + Number(seconds) * 1000;
const serviceOf = (batch) => (batch.resource?.attributes ?? []).find((a) => a.key === "service.name")?.value?.stringValue;
(async () => {
  let seen = [];
  let last = "not found yet";
  for (;;) {
    try {
      const res = await fetch(`http://tempo:3200/api/v2/traces/${traceId}`, { signal: AbortSignal.timeout(5000) });
      if (res.ok) {
        const body = await res.json();
        seen = [...new Set((body.trace?.resourceSpans ?? body.batches ?? []).map(serviceOf).filter(Boolean))].sort();
        last = `spans from ${seen.join(", ")}`;
        if (want.every((s) => seen.includes(s))) {
          console.log(`trace ${traceId}: ${last}`);
          process.exit(0);
        }
      } else if (res.status !== 404) {
        last = `Tempo answered ${res.status}: ${(await res.text()).slice(0, 200)}`;
      }
    } catch (err) {
      last = `Tempo unreachable: ${err}`;
    }
    if (Date.now() > deadline) {
      console.error(`trace ${traceId} incomplete after ${seconds}s (${last}); want spans from ${want.join(", ")}`);
      process.exit(1);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
})();
'
compose exec -T gateway node -e "$tempo_check" "$trace_id" "$trace_timeout"
log "OK: order $order_id, its trace in Tempo spans gateway, catalog, orders and fulfillment"
