#!/usr/bin/env bash
# Build etcd 3.4.23's own load generator (tools/benchmark) from Debian bookworm's etcd source
# package with Debian's Go, in GOPATH mode against /usr/share/gocode (no Go module proxy needed).
# bench:compare drives both servers with it (bench/lib/etcd-benchmark.ts).
#
#   sudo bash bench/build-etcd-benchmark.sh      # needs root: deb-src entry, apt-get build-dep etcd
#
# Result: .cache/etcd-benchmark/benchmark (gitignored); WORK=dir puts it in dir/benchmark instead.
# Debian builds etcd without tools/ (DH_GOLANG_EXCLUDES), but every import the tool needs is in
# etcd's Build-Depends; Debian's patches (applied by dpkg-source -x) make it build against its grpc.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$ROOT/.cache/etcd-benchmark}
SRC_LIST=/etc/apt/sources.list.d/debian-src.sources

if [ -x "$WORK/benchmark" ] && [ "${1:-}" != "--force" ]; then
  echo "$WORK/benchmark is already built (--force to rebuild)"; exit 0
fi
mkdir -p "$WORK"
cd "$WORK"

# 1. deb-src for bookworm main, unless some deb-src entry exists already.
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null; then
  cat > "$SRC_LIST" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends dpkg-dev golang-go

# 2. Build dependencies: the Go libraries land in /usr/share/gocode/src.
apt-get build-dep -y etcd

# 3. The source package, unpacked with Debian's patches applied.
apt-get source --download-only etcd
DSC=$(ls -1 etcd_3.4.*.dsc | sort -V | tail -n1)
VER=${DSC#etcd_}; VER=${VER%.dsc}; UPVER=${VER%-*}          # e.g. 3.4.23-4 -> 3.4.23
rm -rf "etcd-$UPVER"
dpkg-source -x "$DSC" "etcd-$UPVER"

# 4. GOPATH layout: gopath/src/go.etcd.io/etcd is the patched tree.
GP="$WORK/gopath"
rm -rf "$GP/src/go.etcd.io/etcd"
mkdir -p "$GP/src/go.etcd.io"
cp -a "etcd-$UPVER" "$GP/src/go.etcd.io/etcd"

# 5. Build, and check it runs.
env GO111MODULE=off GOFLAGS= GOPROXY=off \
    GOPATH="$GP:/usr/share/gocode" GOCACHE="$WORK/gocache" \
    go build -o "$WORK/benchmark" go.etcd.io/etcd/tools/benchmark
"$WORK/benchmark" --help >/dev/null
echo "built $WORK/benchmark (etcd source $VER, $(go version | awk '{print $3}'))"
