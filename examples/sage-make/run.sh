#!/usr/bin/env bash
# The SageMath scenario, end to end (see README.md here):
#
#   1. a Python reader (reader.py) polls the prefix's distributions while
#   2. `make -j8 all` builds real Debian Python packages into ONE shared prefix through pstore;
#   3. any violation the reader saw, or any make failure, fails the run;
#   4. the final prefix lists every package (`pstore status`) and is exactly its generation
#      (`pstore verify --prefix`);
#   5. `pstore lock`, then `pstore sync` of that lockfile into a fresh prefix: the same `pstore hash`;
#   6. `pstore export --lock` + `pstore import` into a fresh store + `sync`: the same hash again.
#
# Usage: examples/sage-make/run.sh        (after `npm run build`)
# Environment: CORPUS (default ../shared/corpus beside the project), JOBS (8), JITTER (max random
# pause per package, seconds; 2), PYTHON (python3), PSTORE_EXAMPLE_KEEP=1 keeps the work directory.
# Exit 0 with "SKIP:" on stdout when the corpus or a tool it needs is absent.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLI="$ROOT/dist/cli/pstore.cjs"
CORPUS=${CORPUS:-$(cd "$ROOT/.." && pwd)/shared/corpus}
JOBS=${JOBS:-8}
JITTER=${JITTER:-2}
PYTHON=${PYTHON:-python3}

skip() { echo "SKIP: sage-make: $*"; exit 0; }
fail() { echo "FAIL: sage-make: $*" >&2; exit 1; }

[ -d "$CORPUS/debs" ] || skip "no corpus at $CORPUS (the real .debs live in ../shared/corpus beside the project; set CORPUS=DIR)"
for tool in dpkg-deb make "$PYTHON" node; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
[ -f "$CLI" ] || fail "$CLI not found: build first (npm run build, or npx tsc -p tsconfig.json)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pstore-sage-make.XXXXXX")
READER_PID=
cleanup() {
  if [ -n "$READER_PID" ]; then kill "$READER_PID" 2>/dev/null || true; fi
  if [ "${PSTORE_EXAMPLE_KEEP:-}" = 1 ]; then echo "sage-make: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

STORE="$WORK/store"
PREFIX="$WORK/prefix"
pstore() { "$CLI" --store "$STORE" "$@"; }
# one field of the JSON document on stdin: a dotted path, `*` maps over an array; arrays print one
# element per line, objects as JSON
json() { node -e '
  let s = ""; process.stdin.on("data", (c) => { s += c; }).on("end", () => {
    const get = (v, keys) => keys.length === 0 ? v : keys[0] === "*" ? v.map((x) => get(x, keys.slice(1))) : get(v[keys[0]], keys.slice(1));
    const v = get(JSON.parse(s), process.argv[1].split(".").filter(Boolean));
    console.log(Array.isArray(v) ? v.join("\n") : typeof v === "object" ? JSON.stringify(v) : v);
  });' "$1"; }

PACKAGES=$(make -s --no-print-directory -C "$HERE" list)
N=$(wc -w <<<"$PACKAGES")
echo "sage-make: $N packages from $CORPUS/debs, make -j$JOBS, work dir $WORK"

# 1. the reader, polling until the stop file appears (at most 300 s)
"$PYTHON" -I "$HERE/reader.py" --prefix "$PREFIX" --stop-file "$WORK/stop" --seconds 300 --min-polls 3 \
  --pycache "$WORK/pycache" >"$WORK/reader.json" 2>"$WORK/reader.err" &
READER_PID=$!

# 2. the parallel build
start=$(date +%s.%N)
make_status=0
make -C "$HERE" -j"$JOBS" all CORPUS="$CORPUS" STORE="$STORE" PREFIX="$PREFIX" STAGE="$WORK/stage" \
  STAMPS="$WORK/stamps" JITTER="$JITTER" PSTORE="$CLI" >"$WORK/make.log" 2>&1 || make_status=$?
build_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

# 3. stop the reader (it polls once more: the final, complete prefix) and judge
touch "$WORK/stop"
reader_status=0
wait "$READER_PID" || reader_status=$?
READER_PID=
if [ "$make_status" != 0 ]; then cat "$WORK/make.log" >&2; fail "make -j$JOBS failed (exit $make_status)"; fi
if [ "$reader_status" != 0 ]; then cat "$WORK/reader.err" >&2; fail "reader.py failed (exit $reader_status)"; fi
R=$(cat "$WORK/reader.json")
polls=$(json polls <<<"$R")
violations=$(json violations <<<"$R")
echo "reader: $polls polls ($(json busyPolls <<<"$R") with distributions visible), $(json checked <<<"$R") distribution checks, $violations violations" \
  "(not counted: unmet $(json unmet <<<"$R"), unclaimed $(json unclaimed <<<"$R"), unshipped $(json unshipped <<<"$R" | cut -c1-100))"
echo "reader: passed $(json passed.imports <<<"$R") fresh imports, $(json passed.entryPoints <<<"$R") entry points," \
  "$(json passed.recordFiles <<<"$R") RECORD files, $(json passed.pkgResources <<<"$R") pkg_resources working sets"
if [ "$violations" != 0 ]; then
  echo "$R" >&2
  fail "the reader saw $violations violations"
fi
final=" $(json final <<<"$R" | tr '\n' ' ') "
# the distribution each package's metadata announces (python3-pkg-resources ships none)
declare -A DIST=([cython3]=Cython [python3-setuptools-scm]=setuptools-scm [python3-alabaster]=alabaster
  [python3-setuptools]=setuptools [python3-wheel]=wheel [python3-jinja2]=Jinja2 [python3-pip]=pip [python3-numpy]=numpy)
for pkg in $PACKAGES; do
  dist=${DIST[$pkg]:-}
  if [ -n "$dist" ] && [[ "$final" != *" $dist "* ]]; then
    echo "$R" >&2
    fail "the reader's final poll did not verify $dist (of $pkg); it verified:$final"
  fi
done
echo "reader: the final poll verified every distribution:$final"

# 4. the final prefix: every package active, exactly its generation
status_json=$(pstore status --prefix "$PREFIX" --json)
active=$(json 'packages.*.name' <<<"$status_json" | sort | tr '\n' ' ')
want=$(tr ' ' '\n' <<<"$PACKAGES" | grep -v '^$' | sort | tr '\n' ' ')
[ "$active" = "$want" ] || fail "pstore status lists [$active], expected [$want]"
pstore verify --prefix "$PREFIX" --quiet || fail "pstore verify --prefix $PREFIX failed"
echo "prefix: generation $(json generation <<<"$status_json"), $N packages active, verify --prefix ok"

# 5. lock, then sync the lockfile into a fresh prefix: the same digest
pstore lock --prefix "$PREFIX" -o "$WORK/pstore.lock" --quiet
hash1=$(pstore hash --prefix "$PREFIX")
pstore sync "$WORK/pstore.lock" --prefix "$WORK/prefix-synced" --quiet
hash2=$(pstore hash --prefix "$WORK/prefix-synced")
[ "$hash1" = "$hash2" ] || fail "sync from the lockfile gave hash $hash2, the original prefix has $hash1"
echo "lock + sync into a fresh prefix: same hash ${hash1:0:27}..."

# 6. export --lock, import into a fresh store, sync: the same digest again
pstore export --lock "$WORK/pstore.lock" -o "$WORK/deps.pstore" --quiet
"$CLI" --store "$WORK/store2" import "$WORK/deps.pstore" --quiet
"$CLI" --store "$WORK/store2" sync "$WORK/pstore.lock" --prefix "$WORK/prefix-imported" --quiet
hash3=$("$CLI" --store "$WORK/store2" hash --prefix "$WORK/prefix-imported")
[ "$hash1" = "$hash3" ] || fail "export/import/sync gave hash $hash3, the original prefix has $hash1"
echo "export --lock + import into a fresh store + sync: same hash ($(stat -c %s "$WORK/deps.pstore") byte bundle)"

echo "OK: sage-make: $N packages built with make -j$JOBS in ${build_seconds}s, $polls reader polls, 0 violations, reproduced twice"
