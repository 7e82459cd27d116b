#!/usr/bin/env bash
# Builds the real-cluster tier's programs, once, into one folder outside the source tree:
#   realk8s    etcd + kube-apiserver + kube-controller-manager + kube-scheduler (this module)
#   kubectl    from k8s.io/kubectl at the control plane's release (this module)
#   kwok       simulated Nodes and Pods, run by realk8s
#   helm       helm.sh/helm/v4
#   kustomize  sigs.k8s.io/kustomize/kustomize/v5
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
built() { echo "$2" >"$bin/.$1.stamp"; }

# This module's programs: rebuilt when its sources (every file under cmd, the embedded stages
# too) or pins change.
sources_stamp="$KUBERNETES $(cat go.mod go.sum $(find cmd -type f | sort) | sha256sum | cut -c1-16)"
version=k8s.io/component-base/version
ldflags="-X $version.gitVersion=$KUBERNETES -X $version.gitMajor=1 -X $version.gitMinor=$(echo "$KUBERNETES" | cut -d. -f2) -X $version.gitTreeState=clean"
for program in realk8s kubectl; do
  if ! up_to_date "$program" "$sources_stamp"; then
    echo "realk8s: building $program (Kubernetes $KUBERNETES)" >&2
    go build -ldflags "$ldflags" -o "$bin/$program" "./cmd/$program"
    built "$program" "$sources_stamp"
  fi
done

# Programs installed from their own modules at a pinned version.
install() {
  local name="$1" package="$2" version="$3"
  if ! up_to_date "$name" "$package@$version"; then
    echo "realk8s: building $name ($package@$version)" >&2
    GOBIN="$bin" go install "$package@$version"
    built "$name" "$package@$version"
  fi
}
install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK"
install helm helm.sh/helm/v4/cmd/helm "$HELM"
install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE"

echo "$bin"
