#!/usr/bin/env bash
# Builds the OpenTelemetry Collector described by builder-config.yaml (next
# to this script) with the official OpenTelemetry Collector Builder, into
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/graphsignal/otelcol-<hash>/otelcol
#
# where <hash> is the first 16 hex digits of the manifest's SHA-256, so a
# changed manifest builds a new collector and an unchanged one is built once.
# A no-op when that binary exists. Needs only Go and the module proxy.
# Prints the binary's path on stdout; progress goes to stderr.
#
# cmd/graphsignal/otelcol_test.go finds the binary by the same rule
# (or GRAPHSIGNAL_OTELCOL, when set, names it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
manifest="$here/builder-config.yaml"

hash=$(sha256sum "$manifest" | cut -c1-16)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/graphsignal"
dir="$cache/otelcol-$hash"
bin="$dir/otelcol"

if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

fail() {
	echo "testdata/otelcol/build.sh: $*" >&2
	echo "testdata/otelcol/build.sh: the collector for the end-to-end OTLP test was not built; needs Go and the module proxy ($(go env GOPROXY))" >&2
	exit 1
}

# retry N CMD...: runs CMD up to N times, waiting 5 s, 10 s, ... between
# tries, for what fails on the network (module downloads).
retry() {
	local n=$1 i
	shift
	for ((i = 1; i <= n; i++)); do
		"$@" && return 0
		[ "$i" -lt "$n" ] || return 1
		echo "testdata/otelcol/build.sh: try $i of $n failed: $*; retrying in $((i * 5)) s" >&2
		sleep $((i * 5))
	done
}

# quiet CMD...: runs CMD with its output kept aside, shown only if it fails.
quiet() {
	"$@" >"$work/out.log" 2>&1 && return 0
	tail -n 40 "$work/out.log" >&2
	return 1
}

mkdir -p "$cache"
exec 9>"$cache/otelcol.lock"
if command -v flock >/dev/null; then flock 9; fi # one build at a time; a second caller waits, then finds the binary
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

# The builder and the collector core share dist.version; the components are
# the manifest's "- gomod: MODULE VERSION" lines.
core=$(sed -n 's/^  version: *\([0-9.]*\).*/\1/p' "$manifest")
mods=$(sed -n 's/^ *- gomod: *\([^ ]*\) \(v[^ ]*\).*/\1@\2/p' "$manifest")
[ -n "$mods" ] && [ -n "$core" ] || fail "cannot read the components or dist.version from $manifest"
builder_version=v$core

start=$(date +%s)
work=$(mktemp -d "$cache/otelcol-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
GOFLAGS="$(go env GOFLAGS) -mod=mod"
export GOWORK=off GOFLAGS GOBIN="$work/bin"

echo "testdata/otelcol/build.sh: installing the collector builder $builder_version" >&2
retry 3 quiet go install "go.opentelemetry.io/collector/cmd/builder@$builder_version" ||
	fail "go install go.opentelemetry.io/collector/cmd/builder@$builder_version did not succeed"

# The manifest's output_path is relative: resolve it inside the work dir.
cp "$manifest" "$work/builder-config.yaml"
cd "$work"
echo "testdata/otelcol/build.sh: generating the collector's sources" >&2
quiet "$work/bin/builder" --config builder-config.yaml --skip-get-modules --skip-compilation ||
	fail "the builder could not generate the collector's sources"

# The builder's own module step runs `go mod tidy`, which also fetches the
# modules that the components' tests import; the proxy refuses one of them
# (contrib's otlpencodingextension, imported only by fileexporter's tests:
# 403 "not available"). So the modules are resolved here instead, with the
# manifest's versions pinned by `go get`, and only what the collector's own
# packages import is downloaded (`go build -mod=mod`).
cd otelcol-build
go mod init graphsignal.test/otelcol >/dev/null 2>&1 || fail "go mod init did not succeed"
echo "testdata/otelcol/build.sh: downloading the collector's modules" >&2
# shellcheck disable=SC2086 # one argument per module
retry 3 quiet go get $mods "go.opentelemetry.io/collector/otelcol@v$core" ||
	fail "the collector's modules could not be downloaded"
# Fetch every module the build imports now, where a network failure is retried.
retry 3 quiet go list -deps . || fail "the collector's imports could not be downloaded"
cd "$work"
echo "testdata/otelcol/build.sh: compiling the collector" >&2
quiet "$work/bin/builder" --config builder-config.yaml --skip-generate --skip-get-modules ||
	fail "the collector did not compile"

"$work/otelcol-build/otelcol" --version >/dev/null || fail "the built collector does not run"
mkdir -p "$dir"
mv "$work/otelcol-build/otelcol" "$bin.tmp"
mv "$bin.tmp" "$bin" # atomic: a reader sees no binary or a whole one
echo "testdata/otelcol/build.sh: built $bin in $(($(date +%s) - start)) s" >&2
echo "$bin"
