#!/usr/bin/env bash
# Builds the real-cluster tier's programs, once, into one folder outside the source tree:
#   realk8s    etcd + kube-apiserver + kube-controller-manager + kube-scheduler (this module)
#   kubectl    from k8s.io/kubectl at the control plane's release (this module)
#   kwok       simulated Nodes and Pods, run by realk8s
#   helm       helm.sh/helm/v4
#   kustomize  sigs.k8s.io/kustomize/kustomize/v5
#   gitserver  Git over HTTP for Flux (github.com/fluxcd/pkg/gittestserver; ./gitserver)
#   source-controller, kustomize-controller, helm-controller  Flux, one release; their CRDs
#              go to crds/flux/ beside the folder
# A program already built for the same pins (and, for this module's, the same sources) is
# skipped. Progress goes to stderr; the last line on stdout is the folder.
#
# The folder is $REKON_REALK8S_BIN when set, else ~/.cache/rekon/realk8s/bin. Go's own build
# and module caches make a rebuild after a pin change incremental.
set -euo pipefail
cd "$(dirname "$0")"

KUBERNETES=v1.37.2
KWOK=v0.8.0
HELM=v4.3.2
KUSTOMIZE=v5.8.1
# Flux v2.9.5's controllers (the versions its go.mod pins for their APIs).
SOURCE_CONTROLLER=v1.9.5
KUSTOMIZE_CONTROLLER=v1.9.5
HELM_CONTROLLER=v1.6.4

if ! command -v go >/dev/null 2>&1; then
  for candidate in /usr/local/go/bin /usr/lib/go/bin; do
    if [ -x "$candidate/go" ]; then PATH="$candidate:$PATH"; fi
  done
fi
if ! command -v go >/dev/null 2>&1; then
  echo "realk8s: Go is required to build the real-cluster tier (go 1.26 or newer)" >&2
  exit 1
fi

bin="${REKON_REALK8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/rekon/realk8s/bin}"
mkdir -p "$bin"
# A build from a module's own go.mod, whatever the caller's Go environment says.
export GOFLAGS=-mod=readonly
export GOTOOLCHAIN=local

# up_to_date NAME STAMP: whether NAME was built with STAMP.
up_to_date() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.stamp" 2>/dev/null)" = "$2" ]; }
# built NAME STAMP: moves the new program from $staging into place in one rename, so a run
# of the old one (another checkout's tests) is never handed a half-written file.
built() {
  mv -f "$staging/$1" "$bin/$1"
  echo "$2" >"$bin/.$1.stamp"
}
staging="$(mktemp -d "$bin/.staging.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

# This module's programs: rebuilt when its sources (every file under cmd, the embedded stages
# too) or pins change.
sources_stamp="$KUBERNETES $(cat go.mod go.sum $(find cmd -type f | sort) | sha256sum | cut -c1-16)"
version=k8s.io/component-base/version
ldflags="-X $version.gitVersion=$KUBERNETES -X $version.gitMajor=1 -X $version.gitMinor=$(echo "$KUBERNETES" | cut -d. -f2) -X $version.gitTreeState=clean"
for program in realk8s kubectl; do
  if ! up_to_date "$program" "$sources_stamp"; then
    echo "realk8s: building $program (Kubernetes $KUBERNETES)" >&2
    go build -ldflags "$ldflags" -o "$staging/$program" "./cmd/$program"
    built "$program" "$sources_stamp"
  fi
done

# Programs installed from their own modules at a pinned version.
install() {
  local name="$1" package="$2" version="$3"
  if ! up_to_date "$name" "$package@$version"; then
    echo "realk8s: building $name ($package@$version)" >&2
    GOBIN="$staging" go install "$package@$version"
    built "$name" "$package@$version"
  fi
}
install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK"
install helm helm.sh/helm/v4/cmd/helm "$HELM"
install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE"

gitserver_stamp="$(cat gitserver/go.mod gitserver/go.sum gitserver/*.go | sha256sum | cut -c1-16)"
if ! up_to_date gitserver "$gitserver_stamp"; then
  echo "realk8s: building gitserver" >&2
  (cd gitserver && go build -o "$staging/gitserver" .)
  built gitserver "$gitserver_stamp"
fi

# A Flux controller's module replaces its API module with ./api, which its published module
# leaves out, so `go install` refuses it: build a writable copy whose go.mod points the API at
# its published module of the same version. Further MODULE=MODULE@VERSION arguments pin a
# dependency to a version the module proxy serves where the release's own is not served.
flux_controller() {
  local name="$1" version="$2" module="github.com/fluxcd/$1"
  shift 2
  local pins=("$@")
  local crds
  crds="$(dirname "$bin")/crds/flux"
  if up_to_date "$name" "$module@$version ${pins[*]}" && [ -d "$crds" ]; then return; fi
  echo "realk8s: building $name ($module@$version)" >&2
  local source work
  source="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  work="$(mktemp -d)"
  cp -R "$source/." "$work"
  chmod -R u+w "$work"
  (
    cd "$work"
    go mod edit -replace "$module/api=$module/api@$version"
    for pin in "${pins[@]}"; do go mod edit -replace "$pin"; done
    GOFLAGS=-mod=mod go build -o "$staging/$name" .
  )
  rm -rf "$work"
  mkdir -p "$crds"
  cp "$source"/config/crd/bases/*.yaml "$crds/"
  built "$name" "$module@$version ${pins[*]}"
}
# v1.9.5 asks for github.com/fluxcd/pkg/artifact v0.18.3, which the proxy here does not serve.
flux_controller source-controller "$SOURCE_CONTROLLER" \
  github.com/fluxcd/pkg/artifact=github.com/fluxcd/pkg/artifact@v0.18.0
flux_controller kustomize-controller "$KUSTOMIZE_CONTROLLER"
flux_controller helm-controller "$HELM_CONTROLLER"

echo "$bin"
