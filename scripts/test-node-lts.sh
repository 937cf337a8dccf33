#!/bin/sh
# The unit tests and the smoke test (test/integration/smoke.test.ts) on the Node LTS lines people
# run, 22 and 24, besides the machine's own Node which runs every test (`npm test`). Each Node comes
# from the npm registry's `node` package, kept in .cache/node/<major>. NODE_LTS="22" picks lines.
# The lines run side by side (each vitest runs one file at a time on a 2-core machine), each one's
# output printed whole when it ends; the exit status is non-zero if any line failed.
set -eu
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pids=""
for major in ${NODE_LTS:-22 24}; do
    dir=.cache/node/$major
    if [ ! -x "$dir/node_modules/.bin/node" ]; then
        mkdir -p "$dir"
        npm install --prefix "$dir" --no-audit --no-fund "node@$major" >/dev/null
    fi
    bin="$(cd "$dir/node_modules/.bin" && pwd)/node"
    (
        echo "== Node $("$bin" --version): unit tests and the smoke test"
        "$bin" node_modules/vitest/vitest.mjs run test/unit test/integration/smoke.test.ts
    ) >"$logs/$major" 2>&1 &
    pids="$pids $!:$major"
done
status=0
for p in $pids; do
    if ! wait "${p%%:*}"; then status=1; echo "== Node ${p#*:}: FAILED"; fi
    cat "$logs/${p#*:}"
done
exit $status
