#!/usr/bin/env bash
# Memory and scan rate on a tree of many small files: peak RSS and wall time of a full backup, a
# no-change incremental and a full restore, for Lifeboat and (optionally, it is slow) duplicity.
# Usage: bench/million-files.sh [FILES] [--with-duplicity]     (default 1000000 files)
# Needs: /usr/bin/time; run `npm run build` first. Works in bench/work/ (git-ignored), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-1000000}
with_duplicity=${2:-}
work=bench/work/million
rm -rf "$work"; mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
src=$work/src
per_dir=1000
dirs=$(( (files + per_dir - 1) / per_dir ))

echo "making $files files in $dirs directories..."
python3 - "$src" "$files" "$per_dir" <<'PY'
import os, sys
root, n, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    d = os.path.join(root, 'd%04d' % (i // per))
    if i % per == 0: os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'f%05d.txt' % i), 'w') as f: f.write('file %d\n' % i)
PY

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  read -r wall rss < "$work/time"
  printf '| %-40s | %8.1f s | %8.0f MB | %8.0f files/s |\n' "$label" "$wall" "$((rss / 1024))" "$(echo "$files / $wall" | bc -l)"
}

# the bin as installed: through its first line (node --max-semi-space-size=2, one malloc arena), as run.sh runs it
L="bin/lifeboat.js duplicity --no-encryption --no-print-statistics --archive-dir $work/cache"
echo "| step | wall | peak RSS | rate |"
echo "|---|---|---|---|"
measure "lifeboat full backup" $L full "$src" "file://$PWD/$work/target"
sleep 1
measure "lifeboat incremental, nothing changed" $L incr "$src" "file://$PWD/$work/target"
measure "lifeboat restore" $L restore "file://$PWD/$work/target" "$work/restored"
rm -rf "$work/restored"
if [ "$with_duplicity" = "--with-duplicity" ]; then
  D="duplicity --no-encryption --no-print-statistics --archive-dir $work/dcache"
  measure "duplicity full backup" $D full "$src" "file://$PWD/$work/dtarget"
  measure "duplicity restore" $D restore "file://$PWD/$work/dtarget" "$work/drestored"
fi
