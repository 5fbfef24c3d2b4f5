#!/usr/bin/env bash
# pstore demo: ingest three small real Debian packages (examples/fixtures/) into a throwaway store,
# list and inspect them, show that adding the same content again is a no-op with the same id, then
# verify the store and preview a garbage collection. Run it with `npm run demo` (which builds first)
# or `bash examples/demo.sh` after `npm run build`. Needs only node; nothing from ../shared.
#
# Everything happens in a temporary directory that is removed on exit (PSTORE_DEMO_KEEP=1 keeps it).
# To extend the demo, append steps at the end: `step "what happens"`, then `run pstore ...`; the
# store and the prefix (for activation steps) are in $STORE and $PREFIX.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CLI="$ROOT/dist/cli/main.js"
FIXTURES="$ROOT/examples/fixtures"

if [ ! -f "$CLI" ]; then
  echo "demo: $CLI not found; build first (npm run build), or run npm run demo" >&2
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pstore-demo.XXXXXX")
cleanup() {
  if [ "${PSTORE_DEMO_KEEP:-}" = 1 ]; then
    echo "demo: kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

STORE="$WORK/store"    # the content-addressed store every step uses
PREFIX="$WORK/prefix"  # where packages get activated (for steps to come)

# The CLI, always on the demo's store.
pstore() { node "$CLI" --store "$STORE" "$@"; }
# A narrative line before each step.
step() { printf '\n==> %s\n' "$*"; }
# Show a command the way a user would type it, then run it.
run() { printf '$ %s\n' "$*"; "$@"; }
# Path of the fixture for NAME (the Debian package name) and its Debian version.
fixture() { echo "examples/fixtures/${1}_${2}.tar.gz"; }
# One field of a JSON document on stdin: json_field objectsWritten
json_field() { node -e 'let s = ""; process.stdin.on("data", (c) => { s += c; }).on("end", () => console.log(JSON.parse(s)[process.argv[1]]));' "$1"; }

cd "$ROOT"   # so fixture paths read as examples/fixtures/...
PACKAGES=(
  "python3-alabaster 0.7.12-1"
  "python3-setuptools-scm 7.1.0-3"
  "python3-wheel 0.38.4-2"
)

echo "pstore demo: store $STORE"
echo "(pstore here means: node dist/cli/main.js --store \$STORE)"

for pkg in "${PACKAGES[@]}"; do
  read -r name version <<<"$pkg"
  step "add $name $version: hash every file of the tar into the store, record one entry; prints its id"
  run pstore add "$(fixture "$name" "$version")" --name "$name" --version "$version"
done

step "list the store's entries"
run pstore ls

step "inspect one entry: its manifest summary (REF = NAME@VERSION, NAME, or an id prefix)"
run pstore info python3-wheel@0.38.4-2

step "add python3-wheel again: same content, name and version give the same id, and nothing is written"
first=$(pstore info python3-wheel@0.38.4-2 --json | json_field id)
wheel=$(fixture python3-wheel 0.38.4-2)
printf '$ pstore add %s --name python3-wheel --version 0.38.4-2 --json\n' "$wheel"
again=$(pstore add "$wheel" --name python3-wheel --version 0.38.4-2 --json)
echo "$again"
if [ "$(json_field id <<<"$again")" != "$first" ] || [ "$(json_field objectsWritten <<<"$again")" != 0 ]; then
  echo "demo: expected the same id ($first) and 0 objects written" >&2
  exit 1
fi
echo "same id as before, 0 objects written; the store still has $(pstore ls --json | json_field length) entries"

step "verify: rehash every object against the manifests that refer to it (files with equal bytes share one object)"
run pstore verify

step "gc --dry-run: preview what garbage collection would remove (it removes nothing here)"
run pstore gc --dry-run

# Steps to come (activate into $PREFIX, upgrade, python3 import, rollback) go here.

step "done"
