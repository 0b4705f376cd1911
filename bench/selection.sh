#!/usr/bin/env bash
# Walk + selection rate over a tree of ENTRIES objects (default 1,000,000: 1,000 directories of 999
# files), with the issue's exclude list (adapted to the tree's root) plus a few globs: Lifeboat's
# walkSource + buildSelector beside duplicity 0.8's own Select iterator (its selection.py, driven
# through its Python modules, not a backup) on the same tree with the same options.
# Usage: bench/selection.sh [ENTRIES]     Run `npm run build` first. Optional; not part of npm test.
# Works in bench/work/selection (git-ignored), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
entries=${1:-1000000}
work=$PWD/bench/work/selection
rm -rf "$work"; mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
root=$work/root
per_dir=999
dirs=$(( (entries + per_dir) / (per_dir + 1) ))

echo "making about $entries entries in $dirs directories..." >&2
python3 - "$root" "$dirs" "$per_dir" <<'PY'
import os, sys
root, dirs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = ['dev', 'proc', 'sys', 'tmp', 'var/cache', 'var/lib/mysql']
for i in range(dirs):
    d = os.path.join(root, names[i] if i < len(names) else 'd%04d' % i)
    os.makedirs(d, exist_ok=True)
    for j in range(per):
        open(os.path.join(d, 'f%05d.%s' % (j, 'log' if j % 10 == 0 else 'txt')), 'w').close()
PY

list=$work/exclude.list
for p in /dev /proc /sys /run /var/lock /var/run /lost+found /boot /tmp /var/tmp /media /mnt /var/cache \
         /var/crash /var/swap /var/swapfile /var/swap.img /var/lib/mysql /var/lib/postgresql; do
  echo "- $root$p"
done > "$list"
opts=(--exclude-filelist "$list" --exclude '**/*.log' --exclude "$root/d00[0-4]?/f000*" --include "$root/d01*" --exclude "$root/d02*")
total=$(find "$root" | wc -l)

sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
read -r ours_n ours_s < <(node dist/bench/selection.bench.js "$root" "${opts[@]}")
# duplicity's Select over the same tree (python3.11 is the interpreter duplicity runs under)
dup=$(PYTHONPATH=/usr/lib/python3/dist-packages /usr/bin/python3.11 - "$root" "${opts[@]}" <<'PY'
import gettext, sys, time
gettext.install('duplicity')
from duplicity import log, path, selection
log.setup()
root, args = sys.argv[1], sys.argv[2:]
tuples, files, i = [], [], 0
while i < len(args):
    opt, val = args[i], args[i + 1]
    tuples.append((opt, val)); i += 2
    if opt.endswith('filelist'):
        files.append(open(val, 'rt', encoding='UTF-8'))
sel = selection.Select(path.Path(root))
sel.ParseArgs(tuples, files)
start = time.monotonic()
n = sum(1 for _ in sel.set_iter())
print('RESULT', n, '%.3f' % (time.monotonic() - start))
PY
)
read -r _ dup_n dup_s < <(grep '^RESULT' <<<"$dup")

echo "| walk + selection over $total entries ($ours_n selected) | wall | entries/s |"
echo "|---|---|---|"
printf '| Lifeboat walkSource + buildSelector | %8.2f s | %10.0f |\n' "$ours_s" "$(echo "$total / $ours_s" | bc -l)"
printf '| duplicity 0.8.22 Select             | %8.2f s | %10.0f |\n' "$dup_s" "$(echo "$total / $dup_s" | bc -l)"
if [ "$ours_n" != "$dup_n" ]; then echo "MISMATCH: lifeboat selected $ours_n, duplicity $dup_n" >&2; exit 1; fi
