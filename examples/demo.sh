#!/usr/bin/env bash
# pstore demo: the main job end to end, on three small real Debian packages (examples/fixtures/).
#   1. ingest them into a throwaway store, list and inspect them, show that adding the same content
#      again is a no-op with the same id, verify the store, preview a garbage collection;
#   2. activate them into a throwaway prefix and import them from it with python3;
#   3. upgrade: rebuild alabaster as "0.7.13" from the fixture, add it, activate it (one transaction
#      replaces 0.7.12), python3 sees 0.7.13; list the generations, roll back, python3 sees 0.7.12;
#   4. verify the prefix, show status as JSON and the lockfile, the generations layout (the prefix
#      is a symlink to one tree per generation), and a gc preview.
# Run it with `npm run demo` (which builds first) or `bash examples/demo.sh` after `npm run build`,
# from any directory. Needs node and python3 (3.8 or later); nothing from ../shared, no network.
#
# Everything happens in a temporary directory that is removed on exit (PSTORE_DEMO_KEEP=1 keeps it);
# commands are shown with that directory as $WORK. Any failing step fails the demo (set -e, checks).
# To extend the demo, append steps at the end: `step "what happens"`, then `run pstore ...`; the
# store and the prefix are in $STORE and $PREFIX.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CLI="$ROOT/dist/cli/pstore.cjs"
FIXTURES="$ROOT/examples/fixtures"

if [ ! -f "$CLI" ]; then
  echo "demo: $CLI not found; build first (npm run build), or run npm run demo" >&2
  exit 1
fi
if ! command -v python3 >/dev/null; then
  echo "demo: python3 not found; it is needed to import the activated packages" >&2
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

STORE="$WORK/store"           # the content-addressed store every step uses
PREFIX="$WORK/prefix"         # where packages get activated (inplace layout: a real directory)
SITE="$PREFIX/usr/lib/python3/dist-packages"  # the prefix's Python path (Debian's layout)
STAGE="$WORK/stage"           # where the local alabaster 0.7.13 is built
GENPREFIX="$WORK/prefix-gens" # a second prefix, generations layout (a symlink to a tree)

# The CLI, always on the demo's store.
pstore() { "$CLI" --store "$STORE" "$@"; }
# A narrative line before each step.
step() { printf '\n==> %s\n' "$*"; }
# Show a command the way a user would type it (the temporary directory as $WORK, arguments that
# need it in single quotes), then run it.
run() {
  local a shown=()
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./=:@%+,-]+$ ]]; then
      shown+=("${a//"$WORK"/\$WORK}")
    else
      shown+=("'${a//\'/\'\\\'\'}'")
    fi
  done
  printf '$ %s\n' "${shown[*]}"
  "$@"
}
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

echo "pstore demo: WORK=$WORK (temporary), store \$WORK/store, prefix \$WORK/prefix"
echo "(pstore here means: dist/cli/pstore.cjs --store \$STORE)"

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

# --- Activation: the three packages into $PREFIX, then python3 imports them from there. ---

# The Python check every import step runs (python3 3.8+): the distributions whose metadata is in the
# prefix (read from SITE only, not from python3's own path), where the modules are imported from,
# and one summary line that pycheck compares.
PY='import sys, importlib.metadata as md
site = sys.argv[1]
for d in sorted(md.distributions(path=[site]), key=lambda d: d.metadata["Name"].lower()):
    print("  metadata in $SITE:", d.metadata["Name"], d.version)
import alabaster, wheel
for m in alabaster, wheel:
    print("  import", m.__name__, "from", m.__file__.replace(site, "$SITE"))
meta = next(md.distributions(name="alabaster", path=[site])).version
print("alabaster", meta, "(metadata),", alabaster.version.__version__, "(module); wheel", wheel.__version__)'
# pycheck VERSION: run $PY on the prefix; fail unless alabaster's metadata and module are both VERSION
# and both modules come from the prefix.
pycheck() {
  printf '$ PYTHONPATH=$SITE python3 -c "$PY" $SITE\n'
  local out want="alabaster $1 (metadata), $1 (module); wheel 0.38.4"
  out=$(PYTHONPATH="$SITE" python3 -c "$PY" "$SITE")
  printf '%s\n' "$out"
  if [ "$(tail -n 1 <<<"$out")" != "$want" ] \
    || ! grep -qx '  import alabaster from $SITE/alabaster/__init__.py' <<<"$out" \
    || ! grep -qx '  import wheel from $SITE/wheel/__init__.py' <<<"$out"; then
    echo "demo: expected \"$want\", both modules imported from \$SITE" >&2
    exit 1
  fi
}

step "activate the three packages into a new prefix (inplace layout): one transaction, files linked from the store, metadata (*.egg-info, *.dist-info) placed last"
run pstore activate python3-alabaster@0.7.12-1 python3-setuptools-scm@7.1.0-3 python3-wheel@0.38.4-2 --prefix "$PREFIX"

step "the prefix's status: its layout, current generation and active packages"
run pstore status --prefix "$PREFIX"

step "python3 imports from the prefix (setuptools_scm is only listed: importing it needs 'packaging', not among the fixtures)"
printf '$ SITE=%s\n' "${SITE//"$WORK"/\$WORK}"
printf "\$ PY='%s'\n" "$PY"
pycheck 0.7.12

# --- Upgrade: a local rebuild of alabaster as 0.7.13, activated over 0.7.12 in one transaction. ---

step "build a local alabaster 0.7.13: unpack the fixture into a staging directory, bump the module's version, rename the egg-info and bump its PKG-INFO"
run mkdir "$STAGE"
run tar -xzf "$(fixture python3-alabaster 0.7.12-1)" -C "$STAGE"
printf '$ cd %s\n' "${STAGE//"$WORK"/\$WORK}/usr/lib/python3/dist-packages"
cd "$STAGE/usr/lib/python3/dist-packages"
run sed -i 's/^__version_info__ = (0, 7, 12)$/__version_info__ = (0, 7, 13)/' alabaster/_version.py
run mv alabaster-0.7.12.egg-info alabaster-0.7.13.egg-info
run sed -i 's/^Version: 0\.7\.12$/Version: 0.7.13/' alabaster-0.7.13.egg-info/PKG-INFO
run grep -Hx '__version_info__ = (0, 7, 13)' alabaster/_version.py   # grep fails (and so the demo) if sed changed nothing
run grep -Hx 'Version: 0.7.13' alabaster-0.7.13.egg-info/PKG-INFO
printf '$ cd -\n'
cd "$ROOT"

step "add the staging directory as python3-alabaster 0.7.13-local: a new id; only the changed files are new objects"
printf '$ pstore add %s --name python3-alabaster --version 0.7.13-local --json\n' "${STAGE//"$WORK"/\$WORK}"
added=$(pstore add "$STAGE" --name python3-alabaster --version 0.7.13-local --json)
echo "$added"
echo "$(json_field objectsWritten <<<"$added") new objects for $(json_field files <<<"$added") files: the other files' bytes are already in the store"
run pstore ls

step "upgrade: activate 0.7.13-local in the prefix; one transaction removes 0.7.12-1 (-) and places 0.7.13-local (+), new generation"
run pstore activate python3-alabaster@0.7.13-local --prefix "$PREFIX"

step "python3 now sees alabaster 0.7.13, in its metadata and in its module"
pycheck 0.7.13

# --- Generations and rollback. ---

step "the prefix's generations (* = current): each is a complete, immutable list of entries"
run pstore generations --prefix "$PREFIX"

step "roll back to the previous generation: one transaction again, the reverse of the upgrade"
run pstore rollback --prefix "$PREFIX"

step "python3 sees alabaster 0.7.12 again"
pycheck 0.7.12

step "verify the prefix: every owned path matches its entry's manifest, nothing missing, modified or left over"
run pstore verify --prefix "$PREFIX"

step "status after the rollback: generation 1 is current again (rollback records no new generation)"
run pstore status --prefix "$PREFIX"

step "every command takes --json: the status as a machine-readable document"
run pstore status --prefix "$PREFIX" --json

step "the prefix's lockfile (commit it; pstore sync LOCKFILE --prefix DIR reproduces the prefix elsewhere)"
run pstore lock --prefix "$PREFIX"

# --- The generations layout. ---

step "the generations layout: a second prefix is a symlink to one complete tree per generation"
run pstore activate python3-alabaster@0.7.12-1 python3-setuptools-scm@7.1.0-3 python3-wheel@0.38.4-2 --prefix "$GENPREFIX" --layout generations --quiet
run readlink "$GENPREFIX"
first_tree=$(readlink "$GENPREFIX")

step "upgrade and roll back there: each is one atomic swap of the symlink, whatever the prefix's size"
run pstore activate python3-alabaster@0.7.13-local --prefix "$GENPREFIX"
run readlink "$GENPREFIX"
run pstore rollback --prefix "$GENPREFIX"
run readlink "$GENPREFIX"
if [ "$(readlink "$GENPREFIX")" != "$first_tree" ]; then
  echo "demo: expected the rollback to point $GENPREFIX at $first_tree again" >&2
  exit 1
fi
run grep -h '^Version:' "$GENPREFIX/usr/lib/python3/dist-packages/alabaster-0.7.12.egg-info/PKG-INFO"

step "gc --dry-run again: nothing to remove; every entry is in a generation of a prefix (and entries added in the last 24 h are kept anyway)"
run pstore gc --dry-run

step "done"
