#!/usr/bin/env bash
# Encrypted vs unencrypted full backup and restore throughput, Lifeboat beside duplicity + gpg, on the
# same data: wall time, MB/s of source data and peak RSS of each run. Three modes: plain
# (--no-encryption), encrypted (PASSPHRASE, symmetric), signed (--encrypt-sign-key: to a public key
# and signed by it, the key's passphrase in PASSPHRASE; restores check the signatures).
# Usage: bench/encryption.sh [MB]    (default 400: half random bytes, half compressible text)
# Needs: duplicity, gpg, /usr/bin/time; run `npm run build` first. Works in bench/work/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-400}
work=bench/work/encryption
rm -rf "$work"; mkdir -p "$work/src" "$work/gnupg"; chmod 700 "$work/gnupg"
trap 'GNUPGHOME=$PWD/$work/gnupg gpgconf --kill gpg-agent 2>/dev/null || true; rm -rf "$work"' EXIT
export GNUPGHOME=$PWD/$work/gnupg TZ=UTC
half=$(( mb / 2 ))
head -c $(( half * 1000000 )) /dev/urandom > "$work/src/random.bin"
python3 - "$work/src/text.txt" "$(( half * 1000000 ))" <<'PY'
import random, sys
r = random.Random(1); words = [''.join(r.choice('abcdefghijklmnop') for _ in range(r.randint(2, 9))) for _ in range(5000)]
with open(sys.argv[1], 'w') as f:
    n = int(sys.argv[2]); out = 0
    while out < n:
        line = ' '.join(r.choice(words) for _ in range(12)) + '\n'; f.write(line); out += len(line)
PY

measure() { # label, env assignments..., -- command...
  local label=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  /usr/bin/time -f "%e %M" -o "$work/time" env "${envs[@]}" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  read -r wall rss < "$work/time"
  printf '| %-40s | %7.1f s | %7.1f MB/s | %6d MB |\n' "$label" "$wall" "$(echo "$mb / $wall" | bc -l)" $(( rss / 1024 ))
}

# the signing mode's key: ed25519 + cv25519 as gpg 2.2 makes them, protected by the passphrase "bench"
gpg --batch --pinentry-mode loopback --passphrase bench --quick-gen-key 'bench <bench@example.org>' future-default default never 2>/dev/null
fpr=$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr/ { print $10; exit }')

lifeboat="node bin/lifeboat.js duplicity"
echo "| run ($mb MB source) | wall | throughput | peak RSS |"
echo "|---|---|---|---|"
for mode in plain encrypted signed; do
  case $mode in
    plain) opts=(--no-encryption); pass=PASSPHRASE= ;;
    encrypted) opts=(); pass=PASSPHRASE=bench ;;
    signed) opts=(--encrypt-sign-key "$fpr"); pass=PASSPHRASE=bench ;;
  esac
  measure "Lifeboat full, $mode" $pass -- $lifeboat full "${opts[@]}" --archive-dir "$work/c1-$mode" "$work/src" "file://$PWD/$work/lb-$mode"
  measure "duplicity full, $mode" $pass -- duplicity full "${opts[@]}" --archive-dir "$work/c2-$mode" "$work/src" "file://$PWD/$work/dup-$mode"
  measure "Lifeboat restore, $mode" $pass -- $lifeboat restore "${opts[@]}" --archive-dir "$work/c3-$mode" "file://$PWD/$work/lb-$mode" "$work/out1-$mode"
  measure "duplicity restore, $mode" $pass -- duplicity restore "${opts[@]}" --archive-dir "$work/c4-$mode" "file://$PWD/$work/dup-$mode" "$work/out2-$mode"
done
du -sm "$work"/lb-* "$work"/dup-* | sed 's|bench/work/encryption/||' | awk '{ printf "| target %s | %s MB |\n", $2, $1 }'
