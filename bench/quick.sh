#!/bin/bash
# A reduced, quick version of run.sh for measuring one change on a shared machine: Lifeboat and
# duplicity 0.8 only, CPU time (user + sys) as the measure, no root, no loop image, no restic/borg.
#
#   npx tsc -p . && bench/quick.sh [--rounds N] [--work DIR]
#
# Builds once, under DIR (default /var/tmp/lifeboat-quick), a ~330 MB tree of 8,600 entries:
# /usr/lib/python3.11 (or the first python3.* there) and /usr/share/doc copied, 40 MiB of random bytes,
# 1,500 small random uploads, 4 logs of 5 MiB, a 40 MiB text "dump" and a 100,000-row SQLite file
# (generated with dataset-tool.js, the same bytes every time; the copied system files follow the
# machine). Then per round, for each tool in turn: a fresh copy, full backup, one day of changes
# (dataset-tool.js mutate), incremental, incremental with nothing changed, restore. Prints one line
# per step: round tool step user_s sys_s wall_s peak_rss_kb target_bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=/var/tmp/lifeboat-quick
rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "quick.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for p in duplicity sqlite3 /usr/bin/time; do
  command -v "$p" >/dev/null || { echo "quick.sh: $p is not installed (Debian packages duplicity, sqlite3, time)" >&2; exit 2; }
done
tool="node $here/dist/bench/dataset-tool.js"
[ -f "$here/dist/bench/dataset-tool.js" ] || { echo "quick.sh: build first: npx tsc -p $here" >&2; exit 2; }

d0=$work/d0
if [ ! -f "$work/d0.done" ]; then
  rm -rf "$d0" && mkdir -p "$d0"/root/etc "$d0"/root/usr/share "$d0"/srv/data "$d0"/var/log/app "$d0"/var/backups "$d0"/var/lib/app
  py=$(ls -d /usr/lib/python3.* | head -1)
  cp -a "$py" "$d0/root/usr/share/"
  cp -a /usr/share/doc "$d0/srv/django"
  $tool random "$d0/srv/data/blob-0.bin" $((40 * 1024 * 1024)) blob
  $tool uploads "$d0/srv/uploads" 1500 up
  $tool logs "$d0/var/log/app" 4 $((5 * 1024 * 1024)) logs
  rm -rf "$work/dump" && $tool logs "$work/dump" 1 $((40 * 1024 * 1024)) dump
  mv "$work"/dump/* "$d0/var/backups/pgbench.sql" && rmdir "$work/dump"
  # day 1's dump: 200 in-place edits of the day-0 dump
  node -e 'const fs = require("fs"); const b = fs.readFileSync(process.argv[1]);
    for (let i = 0; i < 200; i++) b.write("UPDATED-" + i, Math.floor(b.length * i / 200) + 1234);
    fs.writeFileSync(process.argv[2], b);' "$d0/var/backups/pgbench.sql" "$work/day1.sql"
  sqlite3 "$d0/var/lib/app/app.sqlite" "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INT, status TEXT, amount_cents INT, note TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
    INSERT INTO orders SELECT i, (i * 7919) % 20000, 'open', (i * 104729) % 100000, printf('order %d %s', i, hex(i * 2654435761)) FROM n;
    CREATE INDEX oc ON orders(customer_id);"
  touch -d 2026-01-01T03:00:00Z "$d0/var/lib/app/app.sqlite" "$d0/var/backups/pgbench.sql"
  touch "$work/d0.done"
fi

one() { # one TOOL ROUND
  local t=$1 round=$2 w=$work/w-$1 cmd
  rm -rf "$w" && mkdir -p "$w" && cp -a "$d0" "$w/src"
  if [ "$t" = lifeboat ]; then cmd="$here/bin/lifeboat.js duplicity"; else cmd=duplicity; fi
  local common="--no-encryption --archive-dir $w/arch --name bench"
  step() {
    local name=$1; shift
    /usr/bin/time -f "%U %S %e %M" -o "$w/time" "$@" >"$w/$name.log" 2>&1 || { echo "quick.sh: $t $name failed, see $w/$name.log" >&2; exit 1; }
    echo "$round $t $name $(cat "$w/time") $(du -sb "$w/target" | cut -f1)"
  }
  step full $cmd full $common "$w/src" "file://$w/target"
  $tool mutate "$w/src" "$work/day1.sql" >/dev/null
  sleep 1
  step incr $cmd incremental $common "$w/src" "file://$w/target"
  sleep 1
  step noop $cmd incremental $common "$w/src" "file://$w/target"
  step restore $cmd restore $common "file://$w/target" "$w/restored"
  rm -rf "$w"
}
for round in $(seq 1 "$rounds"); do
  one lifeboat "$round"
  one duplicity "$round"
done
