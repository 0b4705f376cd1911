#!/usr/bin/env bash
# Lifeboat against duplicity 0.8, restic and borg on the same dataset, interleaved, with the machine's
# physical limits beside them. One command: bench/run.sh (bench/README.md has the method).
#
# Usage: bench/run.sh [--repeats N] [--tools "lifeboat duplicity restic borg"] [--cache DIR]
#                     [--results FILE] [--note TEXT] [--no-limits] [--no-image] [--verify all|first|none]
#                     [--cold]
#   --repeats N   rounds (default 3); each round runs the limits, then every tool in order:
#                 full backup, one day of changes (bench/mutate.sh), incremental, no-change
#                 incremental, restore of the latest state
#   --cache DIR   dataset and scratch space (default /var/tmp/lifeboat-bench, or $LIFEBOAT_BENCH_CACHE)
#   --results F   the Markdown report (default bench/RESULTS.md); raw numbers in CACHE/runs/<time>/
#   --note TEXT   a line for the report (e.g. "taken under load")
#   --no-image    work on the cache's file system instead of a private ext4 loop image
#   --verify      check restores against the source tree's digest: in the first round (default),
#                 in all rounds, or never
#   --cold        drop the page cache before every full backup and the limits' read-tar, so they read
#                 the source from disk as a nightly run does; each tool's own program and libraries
#                 load from disk too (the other steps stay warm)
# Needs root (the dataset and the loop image), /usr/bin/time, pigz (else split files with gzip),
# duplicity, restic, borg, and a build of this worktree (it runs `npx tsc -p .` first).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
repeats=3
tools="lifeboat duplicity restic borg"
cache=${LIFEBOAT_BENCH_CACHE:-/var/tmp/lifeboat-bench}
results=$repo/bench/RESULTS.md
note=""
limits=yes
image=yes
verify=first
cold=no
while [ $# -gt 0 ]; do
  case $1 in
    --repeats) repeats=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --note) note=$2; shift 2 ;;
    --no-limits) limits=no; shift ;;
    --no-image) image=no; shift ;;
    --verify) verify=$2; shift 2 ;;
    --cold) cold=yes; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $repeats in ''|*[!0-9]*|0) echo "run.sh: --repeats takes a number of rounds, 1 or more" >&2; exit 2 ;; esac
case $verify in all|first|none) ;; *) echo "run.sh: --verify takes all, first or none" >&2; exit 2 ;; esac
for t in $tools; do
  case $t in lifeboat|duplicity|restic|borg) ;; *) echo "run.sh: unknown tool '$t' (lifeboat duplicity restic borg)" >&2; exit 2 ;; esac
done
[ "$(id -u)" = 0 ] || { echo "run.sh: run it as root (debootstrap, device nodes, the loop mount)" >&2; exit 2; }
for p in /usr/bin/time duplicity restic borg node; do
  command -v "$p" >/dev/null || { echo "run.sh: $p is missing (Debian: time duplicity restic borgbackup nodejs)" >&2; exit 1; }
done

log() { printf '[bench %s] %s\n' "$(date -u +%T)" "$*" >&2; }

(cd "$repo" && npx tsc -p .)
"$repo/bench/dataset.sh" "$cache"
day0=$cache/dataset/day0
dataset_bytes=$(du -sb "$day0" | cut -f1)
tool="node $repo/dist/bench/dataset-tool.js"

run=$cache/runs/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$run/logs"
raw=$run/raw.tsv
printf 'round\ttool\tstep\twall_s\tuser_s\tsys_s\tmaxrss_kb\ttarget_bytes\tcache_bytes\tload1\n' > "$raw"

# Scratch space: a private ext4 image, so targets and restores do not queue behind other work on the
# shared disk's metadata (bench-notes: a plain copy of the dataset varied from 2 s to 17 s there).
work=$cache/work
cleanup() {
  if [ "$image" = yes ] && mountpoint -q "$work"; then umount "$work"; fi
  if [ "$image" = yes ]; then rm -f "$cache/work.img"; fi
}
trap cleanup EXIT
mkdir -p "$work"
# A new file system for each tool in each round, so that every tool starts from the same state: ext4
# allocates more slowly in block groups it has not used yet, and a restore into new space took 6.9 s
# where the same restore into space just freed took 5.0 s, so the first tool to restore in a round
# paid for the others. Inode tables and journal are initialised by mkfs, not in the background after
# mounting (ext4lazyinit), where the first restore took 18.5 s instead of 5.4.
new_scratch() {
  [ "$image" = yes ] || return 0
  if mountpoint -q "$work"; then umount "$work"; fi
  rm -f "$cache/work.img"
  truncate -s 8G "$cache/work.img"
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$cache/work.img"
  mount -o loop "$cache/work.img" "$work"
}
new_scratch
src=$work/src
restore=$work/restore

load1() { cut -d' ' -f1 /proc/loadavg; }
bytes() { if [ -e "$1" ]; then du -sb "$1" | cut -f1; else echo 0; fi; }

# measure ROUND TOOL STEP TARGET CACHE -- command...: wall, user, sys, peak RSS, and the sizes after it
measure() {
  local round=$1 name=$2 step=$3 target=$4 archive=$5; shift 6
  local out=$run/logs/$round-$name-$step.log load
  load=$(load1)
  # the loop image's writes still in the page cache are written out now, not during the next step
  sync
  if [ "$cold" = yes ] && { [ "$step" = full ] || [ "$step" = read-tar ]; }; then echo 3 > /proc/sys/vm/drop_caches; fi
  # the step's writes are made durable inside the timed command (syncfs of the scratch file system:
  # some tools fsync, duplicity does not)
  if ! /usr/bin/time -f '%e %U %S %M' -o "$run/time" sh -c '"$@" && sync -f "$0"' "$work" "$@" >"$out" 2>&1; then
    log "FAILED: $name $step (round $round), see $out"; tail -5 "$out" >&2; exit 1
  fi
  read -r wall user sys rss < <(tail -1 "$run/time")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$step" "$wall" "$user" "$sys" "$rss" \
    "$(bytes "$target")" "$(bytes "$archive")" "$load" >> "$raw"
  log "$name $step: ${wall}s wall, $(echo "$user + $sys" | bc)s CPU, $((rss / 1024)) MiB"
}

# The source each tool backs up: a fresh copy of day 0, at the same path for every tool (restic and
# borg key their change detection on path, inode, size and times).
fresh_source() {
  new_scratch
  rm -rf "$src" "$restore" "$work"/target-* "$work"/archive-*
  cp -a "$day0" "$src"
  sync -f "$work"
}

check_restore() { # name round dir
  local want got
  [ "$verify" = all ] || { [ "$verify" = first ] && [ "$2" = 1 ]; } || return 0
  want=$($tool digest "$src"); got=$($tool digest "$3")
  if [ "$want" != "$got" ]; then
    $tool digest "$src" --list > "$run/logs/$2-$1-want.list"; $tool digest "$3" --list > "$run/logs/$2-$1-got.list"
    log "RESTORE DIFFERS: $1 (round $2): want $want, got $got; diff $run/logs/$2-$1-{want,got}.list"
    echo "$1 round $2: restore differs from the source ($got, want $want)" >> "$run/verify.txt"
  else
    log "$1 restore checked: $got"
    echo "$1 round $2: restore equals the source ($got)" >> "$run/verify.txt"
  fi
}

# --- the tools: TOOL_full/incr/noop/restore ROUND --------------------------------------------------------
# lifeboat and duplicity take the same command line: duplicity 0.8's, gzip, no encryption
dup_like() { # name round program...
  local name=$1 r=$2 target=$work/target-$1 archive=$work/archive-$1; shift 2
  local common=(--no-encryption --archive-dir "$archive" --name bench)
  fresh_source
  measure "$r" "$name" full "$target" "$archive" -- "$@" full "${common[@]}" "$src" "file://$target"
  "$repo/bench/mutate.sh" "$src" "$cache" >> "$run/logs/$r-$name-mutate.log"
  measure "$r" "$name" incr "$target" "$archive" -- "$@" incremental "${common[@]}" "$src" "file://$target"
  measure "$r" "$name" noop "$target" "$archive" -- "$@" incremental "${common[@]}" "$src" "file://$target"
  measure "$r" "$name" restore "$target" "$archive" -- "$@" restore "${common[@]}" "file://$target" "$restore"
  check_restore "$name" "$r" "$restore"
}
run_lifeboat() { dup_like lifeboat "$1" "$repo/bin/lifeboat.js" duplicity; } # as installed: through its shebang
run_duplicity() { dup_like duplicity "$1" duplicity; }

run_restic() {
  local r=$1
  export RESTIC_REPOSITORY=$work/target-restic RESTIC_PASSWORD=lifeboat-bench RESTIC_CACHE_DIR=$work/archive-restic
  fresh_source
  restic init -q > "$run/logs/$r-restic-init.log"
  cd "$work"
  measure "$r" restic full "$RESTIC_REPOSITORY" "$RESTIC_CACHE_DIR" -- restic backup -q src
  "$repo/bench/mutate.sh" "$src" "$cache" >> "$run/logs/$r-restic-mutate.log"
  measure "$r" restic incr "$RESTIC_REPOSITORY" "$RESTIC_CACHE_DIR" -- restic backup -q src
  measure "$r" restic noop "$RESTIC_REPOSITORY" "$RESTIC_CACHE_DIR" -- restic backup -q src
  measure "$r" restic restore "$RESTIC_REPOSITORY" "$RESTIC_CACHE_DIR" -- restic restore latest --target "$restore"
  cd "$repo"
  check_restore restic "$r" "$restore/src"
  unset RESTIC_REPOSITORY RESTIC_PASSWORD RESTIC_CACHE_DIR
}

run_borg() {
  local r=$1
  export BORG_REPO=$work/target-borg BORG_BASE_DIR=$work/archive-borg BORG_PASSPHRASE=lifeboat-bench
  export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
  fresh_source
  borg init --encryption=none > "$run/logs/$r-borg-init.log" 2>&1
  cd "$work"
  measure "$r" borg full "$BORG_REPO" "$BORG_BASE_DIR" -- borg create ::day0 src
  "$repo/bench/mutate.sh" "$src" "$cache" >> "$run/logs/$r-borg-mutate.log"
  measure "$r" borg incr "$BORG_REPO" "$BORG_BASE_DIR" -- borg create ::day1 src
  measure "$r" borg noop "$BORG_REPO" "$BORG_BASE_DIR" -- borg create ::day1-again src
  mkdir -p "$restore"; cd "$restore"
  measure "$r" borg restore "$BORG_REPO" "$BORG_BASE_DIR" -- borg extract ::day1-again
  cd "$repo"
  check_restore borg "$r" "$restore/src"
  unset BORG_REPO BORG_BASE_DIR BORG_PASSPHRASE
}

# --- physical limits: reading the dataset, gzip -6 on one core and on all ----------------------------------
cores=$(nproc)
if command -v pigz >/dev/null; then gzip_all="pigz -6 -p $cores"   # gzip -6 of the tar stream on every core
else gzip_all="split -n r/$cores --filter='gzip -6'"; fi
run_limits() {
  local r=$1
  new_scratch
  measure "$r" limits read-tar - - -- sh -c "tar -cf - -C '$day0' . | cat > /dev/null"
  measure "$r" limits gzip-1core - - -- sh -c "tar -cf - -C '$day0' . | gzip -6 > /dev/null"
  measure "$r" limits gzip-allcores - - -- sh -c "tar -cf - -C '$day0' . | $gzip_all > /dev/null"
  # the copy lands where a tool's restore lands: on a new scratch file system after a copy of the
  # source and a target's worth of other writes (a backup's ~480 MB), not into space just freed
  new_scratch
  rm -rf "$src" "$restore" "$work/filler"; cp -a "$day0" "$src"
  head -c 480M /dev/zero > "$work/filler"; mkdir -p "$restore"; sync -f "$work"
  measure "$r" limits copy-tar - - -- sh -c "tar -cf - -C '$src' . | tar -xf - -C '$restore'"
  rm -rf "$src" "$restore" "$work/filler"
}

{
  echo "date=$(date -u +%FT%TZ)"
  echo "nproc=$cores"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "mem=$(free -g | awk '/^Mem:/ {print $2}') GiB"
  dev=$(df --output=source "$cache" | tail -1)
  echo "disk=$dev ($(lsblk -dno SIZE "$dev" 2>/dev/null | xargs), $(df --output=fstype "$cache" | tail -1 | xargs), rotational flag $(lsblk -dno ROTA "$dev" 2>/dev/null | xargs))"
  echo "scratch=$([ "$image" = yes ] && echo 'ext4 loop image on the cache disk' || echo "the cache's file system")"
  echo "kernel=$(uname -r)"
  echo "node=$(node --version)"
  echo "lifeboat=$(cd "$repo" && git rev-parse --short HEAD)$(cd "$repo" && git diff --quiet HEAD -- src bin || echo '+changes')"
  echo "duplicity=$(duplicity --version | cut -d' ' -f2)"
  echo "restic=$(restic version | cut -d' ' -f2)"
  echo "borg=$(borg --version | cut -d' ' -f2)"
  echo "gzip=$(gzip --version | head -1 | cut -d' ' -f2)"
  echo "pigz=$(pigz --version 2>&1 | cut -d' ' -f2)"
  echo "repeats=$repeats"
  echo "tools=$tools"
  echo "dataset_bytes=$dataset_bytes"
  if [ "$cold" = yes ]; then note="${note:+$note; }full backups and read-tar from a cold page cache (--cold)"; fi
  echo "note=$note"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$run/meta.env"

for r in $(seq 1 "$repeats"); do
  log "round $r of $repeats"
  if [ "$limits" = yes ]; then run_limits "$r"; fi
  for t in $tools; do "run_$t" "$r"; done
done
rm -rf "$src" "$restore" "$work"/target-* "$work"/archive-*
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$run/meta.env"
cp "$cache/dataset/MANIFEST" "$run/MANIFEST"
node "$repo/dist/bench/report.js" "$run" > "$results"
log "report: $results (raw: $raw)"
