#!/usr/bin/env bash
# Builds the backup benchmark's dataset once, into CACHE (default /var/tmp/lifeboat-bench):
#   CACHE/dataset/day0/            the tree backed up (about 800 MB, 14,000 files)
#     root/                        a Debian bookworm minbase root (debootstrap)
#     srv/django/                  Debian's python3-django package, unpacked (dpkg-deb -x)
#     var/backups/pgbench.sql      pg_dump of a pgbench database (pgbench -i -s $PG_SCALE)
#     var/lib/app/app.sqlite       a SQLite database (sqlite3), customers and orders
#     var/log/app/                 web-server-like logs
#     srv/data/blob-0.bin          incompressible data (AES-CTR keystream of a fixed seed)
#     srv/uploads/                 small incompressible files, enough to reach ~14,000 files
#   CACHE/dataset/day1-pgbench.sql the dump after one day of deterministic changes (bench/mutate.sh)
#   CACHE/dataset/MANIFEST         what went in: package versions, sizes, the tree's digest
# Each part is built once (a part's directory exists only when it is complete); delete CACHE/dataset
# to rebuild. Needs root (debootstrap, dpkg-deb keeping owners), debootstrap, apt-get, dpkg-deb,
# PostgreSQL on $PGHOST:$PGPORT (user postgres, trust auth) with pgbench and pg_dump, sqlite3, node
# and a build of this worktree (npx tsc -p .).
# Usage: bench/dataset.sh [CACHE]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-${LIFEBOAT_BENCH_CACHE:-/var/tmp/lifeboat-bench}}
tool="node $repo/dist/bench/dataset-tool.js"
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
PG_SCALE=${PG_SCALE:-22}           # pgbench scale: ~9.7 MB of dump per unit
BLOB_MB=${BLOB_MB:-200}            # the big incompressible file
LOG_FILES=${LOG_FILES:-6} LOG_MB=${LOG_MB:-5}
TARGET_FILES=${TARGET_FILES:-14000}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
DAY0_EPOCH=1767236400              # 2026-01-01T03:00:00Z, the generated files' mtime (dataset-tool.ts)

parts=$cache/parts
data=$cache/dataset
mkdir -p "$parts"
log() { printf '[dataset] %s\n' "$*" >&2; }

[ -f "$repo/dist/bench/dataset-tool.js" ] || { echo "build first: (cd $repo && npx tsc -p .)" >&2; exit 1; }

# --- Debian minbase root ---------------------------------------------------------------------------
if [ ! -d "$parts/minbase" ]; then
  rm -rf --one-file-system "$parts/minbase.tmp"
  log "debootstrap --variant=minbase bookworm ($MIRROR), a few minutes..."
  if debootstrap --variant=minbase bookworm "$parts/minbase.tmp" "$MIRROR" >"$parts/debootstrap.log" 2>&1; then
    echo "debootstrap --variant=minbase bookworm $MIRROR" > "$parts/minbase.tmp.how"
  else
    # Fallback when debootstrap cannot run (no network, no root): a fixed list of /usr's files,
    # the first 250 MB in path order. Not the same bytes as elsewhere; MANIFEST says so.
    log "debootstrap failed (see $parts/debootstrap.log); FALLBACK: copying the first 250 MB of /usr in path order"
    for m in proc sys dev/pts; do mountpoint -q "$parts/minbase.tmp/$m" && umount "$parts/minbase.tmp/$m"; done
    rm -rf --one-file-system "$parts/minbase.tmp"; mkdir -p "$parts/minbase.tmp"
    find /usr -xdev \( -type f -o -type l \) -printf '%s %p\n' | LC_ALL=C sort -k2 |
      awk '{ total += $1; if (total > 250e6) exit; print $2 }' > "$parts/fallback-files"
    tar -cf - --no-recursion -T "$parts/fallback-files" | tar -xf - -C "$parts/minbase.tmp"
    echo "FALLBACK (debootstrap failed): the first 250 MB of this machine's /usr in path order" > "$parts/minbase.tmp.how"
  fi
  for m in proc sys dev/pts; do
    if mountpoint -q "$parts/minbase.tmp/$m"; then umount "$parts/minbase.tmp/$m"; fi
  done
  rm -rf "$parts/minbase.tmp/var/cache/apt/archives/"*.deb
  mv "$parts/minbase.tmp.how" "$parts/minbase.how"
  mv "$parts/minbase.tmp" "$parts/minbase"
fi

# --- python3-django ----------------------------------------------------------------------------------
if [ ! -d "$parts/django" ]; then
  log "apt-get download python3-django; dpkg-deb -x"
  rm -rf "$parts/django.tmp" "$parts/debs"; mkdir -p "$parts/debs" "$parts/django.tmp"
  (cd "$parts/debs" && apt-get download python3-django >/dev/null)
  deb=$(ls "$parts/debs"/python3-django_*.deb)
  dpkg-deb -x "$deb" "$parts/django.tmp"
  basename "$deb" > "$parts/django.how"
  mv "$parts/django.tmp" "$parts/django"
fi

# --- PostgreSQL: pgbench database dumped, then one day of changes dumped ------------------------------
if [ ! -f "$parts/day1-pgbench.sql" ]; then
  db=lifeboat_bench_dataset
  log "pgbench -i -s $PG_SCALE into $db on $PGHOST:$PGPORT, pg_dump (day 0 and day 1)"
  dump() { pg_dump --no-password --restrict-key=lifeboatbench "$db" > "$1"; }
  dropdb --if-exists "$db"; createdb "$db"
  pgbench -i -q -s "$PG_SCALE" "$db" > "$parts/pgbench.log" 2>&1
  dump "$parts/day0-pgbench.sql.tmp"
  # One day of transactions, written as fixed SQL so the dump is the same on every machine
  # (pgbench's own transactions stamp the clock into pgbench_history).
  psql -q -v ON_ERROR_STOP=1 "$db" <<'SQL'
UPDATE pgbench_accounts SET abalance = abalance + ((aid::bigint * 7919) % 1000)::int - 500 WHERE aid % 200 = 17;
UPDATE pgbench_tellers SET tbalance = tbalance + tid * 13;
UPDATE pgbench_branches SET bbalance = bbalance + bid * 101;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)
  SELECT (i % 10) + 1, 1, (i * 7919) % 100000 + 1, (i * 104729) % 1000 - 500,
         timestamp '2026-01-01 03:00:00' + i * interval '17 seconds'
  FROM generate_series(1, 5000) AS i;
SQL
  dump "$parts/day1-pgbench.sql.tmp"
  dropdb "$db"
  mv "$parts/day0-pgbench.sql.tmp" "$parts/day0-pgbench.sql"
  mv "$parts/day1-pgbench.sql.tmp" "$parts/day1-pgbench.sql"
fi

# --- SQLite -------------------------------------------------------------------------------------------
if [ ! -f "$parts/app.sqlite" ]; then
  log "sqlite3: customers and orders"
  rm -f "$parts/app.sqlite.tmp"
  sqlite3 "$parts/app.sqlite.tmp" <<'SQL'
PRAGMA page_size = 4096;
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, city TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), status TEXT,
                     amount_cents INTEGER, note TEXT);
CREATE INDEX orders_customer ON orders(customer_id);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO customers SELECT i, printf('Customer %d %s', i, hex((i * 2654435761) % 4294967296)),
  printf('c%d@example.org', i), printf('City %d', (i * 31) % 977) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)
INSERT INTO orders SELECT i, (i * 7919) % 20000 + 1, CASE i % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' ELSE 'shipped' END,
  (i * 104729) % 100000, printf('order %d: %s items, ref %s', i, (i * 13) % 17 + 1, hex((i * 2246822519) % 4294967296))
  FROM n;
SQL
  mv "$parts/app.sqlite.tmp" "$parts/app.sqlite"
fi

# --- the tree ------------------------------------------------------------------------------------------
if [ ! -d "$data/day0" ]; then
  log "assembling $data/day0"
  rm -rf "$data"; mkdir -p "$data/day0.tmp"
  d=$data/day0.tmp
  mkdir -p "$d/srv/data" "$d/var/backups" "$d/var/lib/app"
  cp -a "$parts/minbase" "$d/root"
  cp -a "$parts/django" "$d/srv/django"
  cp "$parts/day0-pgbench.sql" "$d/var/backups/pgbench.sql"
  cp "$parts/app.sqlite" "$d/var/lib/app/app.sqlite"
  touch -d "@$DAY0_EPOCH" "$d/var/backups/pgbench.sql" "$d/var/lib/app/app.sqlite"
  $tool logs "$d/var/log/app" "$LOG_FILES" $((LOG_MB * 1048576)) logs
  $tool random "$d/srv/data/blob-0.bin" $((BLOB_MB * 1048576)) blob-0
  have=$(find "$d" -type f | wc -l)
  uploads=$((TARGET_FILES > have ? TARGET_FILES - have : 0))
  $tool uploads "$d/srv/uploads" "$uploads" uploads
  cp "$parts/day1-pgbench.sql" "$data/day1-pgbench.sql"
  mv "$d" "$data/day0"
  {
    echo "built: $(date -u +%FT%TZ) on $(hostname)"
    echo "root: $(cat "$parts/minbase.how")"
    echo "django: $(cat "$parts/django.how")"
    echo "pgbench: scale $PG_SCALE, $(pg_dump --version)"
    echo "sqlite: $(sqlite3 --version | cut -d' ' -f1)"
    echo "blob: $BLOB_MB MiB; logs: $LOG_FILES x $LOG_MB MiB; uploads: $uploads files"
    echo "files: $(find "$data/day0" -type f | wc -l), directories: $(find "$data/day0" -type d | wc -l)," \
      "symlinks: $(find "$data/day0" -type l | wc -l), devices: $(find "$data/day0" \( -type c -o -type b \) | wc -l)"
    echo "bytes (du -sb): $(du -sb "$data/day0" | cut -f1)"
    echo "digest: $($tool digest "$data/day0")"
  } > "$data/MANIFEST"
fi
cat "$data/MANIFEST" >&2
