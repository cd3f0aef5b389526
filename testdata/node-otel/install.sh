#!/usr/bin/env bash
# Installs the pinned OpenTelemetry JS packages for the Node.js intake test
# (internal/httpintake TestNodeOTelSDK). Needs node >= 20.6 and npm; uses
# package-lock.json when present so CI gets exactly the tested versions.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
	echo "install.sh: npm not found; the Node.js OTLP test will be skipped" >&2
	exit 0
fi
if [ -f package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
else
	npm install --no-audit --no-fund --loglevel=error
fi
