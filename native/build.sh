#!/usr/bin/env bash
# Builds the native stack's binaries from the Go module proxy with ordinary Go tooling, at the versions of
# versions.env, into a cache outside the repository keyed by component and version. A binary already in the cache
# is not rebuilt, so CI and later runs on the same machine pay each build once.
#
#   native/build.sh                 # everything
#   native/build.sh prometheus loki # some
#   native/build.sh --print-dir     # where the binaries go
#
# Environment: LOOKOUT_CACHE_DIR (default ~/.cache/lookout), GOFLAGS (default -p=2: Loki and Tempo are heavy).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
set -a
# shellcheck source=../versions.env
source "$root/versions.env"
set +a
cache="${LOOKOUT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lookout}"
export GOFLAGS="${GOFLAGS:--p=2}"
export CGO_ENABLED=0

# pint, compose and helm are not part of the stack: the tests lint the alert rules with pint, validate
# docker-compose.yml with the real Compose CLI (`docker-compose config` needs no engine) and lint and render the
# Kubernetes chart with Helm (`helm lint`, `helm template` need no cluster); cached the same way.
all=(alertmanager prometheus otelcol loki tempo pint compose helm)

bindir() { # component version
  echo "$cache/bin/$1-$2"
}

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Runs a build into a temporary directory and moves it into place only when it succeeded, so that an interrupted
# build never leaves a half-filled cache entry that would be skipped next time.
build_into() { # component version check-binary build-function
  local name=$1 version=$2 check=$3 fn=$4
  local dest
  dest="$(bindir "$name" "$version")"
  if [ -x "$dest/$check" ]; then
    log "$name $version: cached in $dest"
    return 0
  fi
  local tmp
  tmp="$(mktemp -d "$cache/tmp.$name.XXXXXX")"
  local start=$SECONDS
  log "$name $version: building"
  "$fn" "$tmp" "$version"
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  mv "$tmp" "$dest"
  log "$name $version: built in $((SECONDS - start)) s -> $dest"
}

build_alertmanager() {
  GOBIN="$1" go install -trimpath \
    -ldflags "-X github.com/prometheus/common/version.Version=$2" \
    "github.com/prometheus/alertmanager/cmd/alertmanager@v$2" "github.com/prometheus/alertmanager/cmd/amtool@v$2"
}

build_prometheus() {
  # remove_all_sd drops the cloud service discoveries we never use (static targets only); without the
  # builtinassets tag the web UI pages are absent but the HTTP API, which everything here uses, is complete.
  GOBIN="$1" go install -trimpath -tags remove_all_sd \
    -ldflags "-X github.com/prometheus/common/version.Version=$2" \
    "github.com/prometheus/prometheus/cmd/prometheus@v$PROMETHEUS_GOMOD_VERSION" \
    "github.com/prometheus/prometheus/cmd/promtool@v$PROMETHEUS_GOMOD_VERSION"
}

build_otelcol() {
  local out=$1 work
  work="$(mktemp -d)"
  GOBIN="$work/bin" go install "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_VERSION"
  OTELCOL_BUILD_DIR="$work/src" envsubst '${OTELCOL_VERSION} ${OTELCOL_STABLE_VERSION} ${OTELCOL_BUILD_DIR}' \
    < "$root/otel-collector/builder-config.yaml" > "$work/manifest.yaml"
  "$work/bin/builder" --config "$work/manifest.yaml" >&2
  cp "$work/src/otelcol-lookout" "$out/otelcol-lookout"
  rm -rf "$work"
}

# The collector's cache key includes the manifest: a component added or removed means another binary.
otelcol_key() {
  echo "$OTELCOL_VERSION-$(sha256sum "$root/otel-collector/builder-config.yaml" | cut -c1-8)"
}

build_wrapper() { # out wrapper-dir package binary-name ldflags
  local out=$1 dir=$2 pkg=$3 bin=$4 ldflags=$5
  (cd "$root/native/wrappers/$dir" && go build -mod=readonly -trimpath -tags netgo -ldflags "$ldflags" -o "$out/$bin" "$pkg")
}

build_loki() {
  build_wrapper "$1" loki github.com/grafana/loki/v3/cmd/loki loki \
    "-X github.com/grafana/loki/v3/pkg/util/build.Version=$2"
}

build_tempo() {
  build_wrapper "$1" tempo github.com/grafana/tempo/cmd/tempo tempo "-X main.Version=$2"
}

build_pint() {
  build_wrapper "$1" pint github.com/cloudflare/pint/cmd/pint pint "-X main.version=$2"
}

build_compose() {
  build_wrapper "$1" compose github.com/docker/compose/v2/cmd docker-compose \
    "-X github.com/docker/compose/v2/internal.Version=v$2"
}

build_helm() {
  build_wrapper "$1" helm helm.sh/helm/v4/cmd/helm helm "-X helm.sh/helm/v4/internal/version.version=v$2"
}

if [ "${1:-}" = "--print-dir" ]; then
  for c in "${all[@]}"; do
    v_var="$(echo "$c" | tr 'a-z-' 'A-Z_')_VERSION"
    if [ "$c" = otelcol ]; then
      echo "$c $(bindir "$c" "$(otelcol_key)")"
    elif [ "$c" = tempo ]; then
      echo "$c $(bindir "$c" "$TEMPO_VERSION-$TEMPO_COMMIT")"
    else
      echo "$c $(bindir "$c" "${!v_var}")"
    fi
  done
  exit 0
fi

mkdir -p "$cache/bin"
# One build at a time per cache: a second caller waits, then finds the binaries cached.
exec 9>"$cache/build.lock"
flock 9
components=("$@")
[ ${#components[@]} -gt 0 ] || components=("${all[@]}")
for c in "${components[@]}"; do
  case "$c" in
    alertmanager) build_into alertmanager "$ALERTMANAGER_VERSION" amtool build_alertmanager ;;
    prometheus) build_into prometheus "$PROMETHEUS_VERSION" promtool build_prometheus ;;
    otelcol) build_into otelcol "$(otelcol_key)" otelcol-lookout build_otelcol ;;
    loki) build_into loki "$LOKI_VERSION" loki build_loki ;;
    tempo) build_into tempo "$TEMPO_VERSION-$TEMPO_COMMIT" tempo build_tempo ;;
    pint) build_into pint "$PINT_VERSION" pint build_pint ;;
    compose) build_into compose "$COMPOSE_VERSION" docker-compose build_compose ;;
    helm) build_into helm "$HELM_VERSION" helm build_helm ;;
    *) echo "unknown component: $c (one of: ${all[*]})" >&2; exit 2 ;;
  esac
done
