#!/usr/bin/env bash
# Build the wheel, install it in a fresh venv (no source tree), and run it: `shopodoo
# --version`, then a small headless demo, which needs every data file the wheel must carry
# (GraphQL documents, the simulators' schema, the console's stylesheet).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --upgrade pip >/dev/null
"$tmp/venv/bin/pip" wheel -q --no-deps -w "$tmp/dist" "$root"
"$tmp/venv/bin/pip" install -q "$tmp"/dist/shopodoo_console-*.whl
cd "$tmp"
"$tmp/venv/bin/shopodoo" --version
out=$(SHOPODOO_HOME="$tmp/home" "$tmp/venv/bin/shopodoo" demo --headless --orders 5 --home "$tmp/demo")
grep -q "0 duplicates" <<<"$out"
echo "wheel ok: installed, runs, ships its data files"
