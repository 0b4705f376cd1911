#!/usr/bin/env bash
# One day of changes to a copy of the benchmark dataset (bench/dataset.sh), the same on every run:
# the pg_dump replaced by the day-1 dump, SQLite rows updated/deleted/inserted (sqlite3), logs
# appended, 64 scattered 4 KiB writes into the 200 MiB data file, 1 % of the system's and Django's
# files edited, 200 new uploads and a new 16 MiB data file, 1 in 50 uploads deleted
# (bench/dataset-tool.ts `mutate` has the details).
# Usage: bench/mutate.sh TREE [CACHE]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tree=${1:?usage: bench/mutate.sh TREE [CACHE]}
cache=${2:-${LIFEBOAT_BENCH_CACHE:-/var/tmp/lifeboat-bench}}
exec node "$repo/dist/bench/dataset-tool.js" mutate "$tree" "$cache/dataset/day1-pgbench.sql"
