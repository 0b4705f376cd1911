// The files `lifeboat PROFILE create` writes. The conf is a bash script like duply's, and every line
// of it is true for Lifeboat (duply's template has outdated defaults; docs/duply-compatibility.md).
export const confTemplate = `# Lifeboat profile configuration: a bash script, sourced by bash for every command.
# duply profiles work unchanged; this template lists what Lifeboat reads.
# Anything may also come from the environment (VERBOSITY=info lifeboat PROFILE status).
# Check it with: lifeboat PROFILE backup --preview

## Encryption (OpenPGP, in the format duplicity and gpg read)
# GPG_KEY='disabled' writes unencrypted backups.
# A key id (or a comma-separated list) encrypts to those public keys; GPG_PW is then
# the secret key's passphrase. The first key also signs every file when its secret key
# is here (in gpg's keyring or the profile folder); GPG_KEY_SIGN picks another signing
# key or 'disabled'. Leave GPG_KEY empty and set GPG_PW for a passphrase (symmetric).
GPG_KEY='_KEY_ID_'
GPG_PW='_GPG_PASSWORD_'
#GPG_KEYS_ENC='<pubkey1>,<pubkey2>,...'
#GPG_KEY_SIGN='<prvkey>|disabled'
#GPG_PW_SIGN='<signpass>'
# Keys are exported into this folder (gpgkey.<ID>.pub.asc, .sec.asc) on the first run
# and used from here; GPG_EXPORT='disabled' / GPG_IMPORT='disabled' turn that off.
# Keep a copy of the passphrase or secret key away from this server:
# without it no backup can be restored.

## Where the backups go (duplicity's URL syntax). Characters other than
## A-Za-z0-9.-_~ in user or password must be URL-encoded (%40 for @).
# local or mounted disk:  file:///srv/backups/myhost
# Backblaze B2 (native):  b2://keyID:applicationKey@bucket/myhost
# Backblaze B2 (S3 API):  boto3+s3://bucket/myhost
#                         with DUPL_PARAMS="$DUPL_PARAMS --s3-endpoint-url https://s3.us-west-004.backblazeb2.com"
#                         and export AWS_ACCESS_KEY_ID=keyID AWS_SECRET_ACCESS_KEY=applicationKey
# S3 and compatible:      boto3+s3://bucket/prefix (credentials in AWS_* as above)
# SFTP:                   sftp://user@host//absolute/path or sftp://user@host/relative/path
# WebDAV:                 webdavs://user@host/path
# Azure:                  azure://container (export AZURE_CONNECTION_STRING=...)
# rclone:                 rclone://remote:/path
TARGET='scheme://user[:password]@host[:port]/[/]path'
# Instead of putting them in TARGET, user and password may be given here
# (they reach the backend in the environment, never on a command line):
#TARGET_USER='_backend_username_'
#TARGET_PASS='_backend_password_'

## What to back up: a directory (/ for the whole system); the exclude file next
## to this conf selects within it (duplicity's globbing filelist).
SOURCE='/path/of/source'

## Retention, used by purge, purgeFull, purgeIncr and purgeAuto:
# delete sets older than this (purge)
#MAX_AGE=6M
# keep this many full backups with everything that depends on them (purgeFull)
#MAX_FULL_BACKUPS=2
# keep incrementals only for this many most recent full backups (purgeIncr)
#MAX_FULLS_WITH_INCRS=1
# start a new full backup when the last one is older than this; both lines are needed
#MAX_FULLBKP_AGE=1M
#DUPL_PARAMS="$DUPL_PARAMS --full-if-older-than $MAX_FULLBKP_AGE "

## Volume size in MiB (default 200); both lines are needed
#VOLSIZE=200
#DUPL_PARAMS="$DUPL_PARAMS --volsize $VOLSIZE "

## Skip directories holding a file of this name; both lines are needed
#FILENAME='.duplicity-ignore'
#DUPL_PARAMS="$DUPL_PARAMS --exclude-if-present '$FILENAME'"

## Output: error, warning, notice, info, debug (or 0-9). warning keeps a cron job
## silent unless something goes wrong.
#VERBOSITY=warning

## Temporary space for volumes being written (default /tmp)
#TEMP_DIR=/tmp

## Local cache of manifests and signatures (default ~/.cache/duplicity/duply_<profile>)
#ARCH_DIR=/var/cache/lifeboat

## A second run of this profile waits this many seconds for the first (default 600)
#LOCK_WAIT=600

## Unattended runs ("lifeboat PROFILE schedule", docs/unattended.md): who hears about a failure,
## how old the last backup may get before "check" fails, where the routine's log goes
#NOTIFY_EMAIL=ops@example.org
#NOTIFY_SMTP=smtp://localhost:25
#NOTIFY_WEBHOOK=https://example.org/hooks/backup
#NOTIFY_PING=https://hc-ping.com/your-check-uuid
#NOTIFY_ON=failure
#CHECK_MAX_AGE=26h
#LOG_FILE=/var/log/lifeboat/PROFILE.log
## Offline copies ("lifeboat PROFILE copy file:///media/DISK/PROFILE", docs/offline-copies.md):
## status warns when no copy is newer than this (default 35D once a copy was made)
#OFFLINE_MAX_AGE=35D
## prices for "lifeboat PROFILE cost" (USD; default: published B2, S3 and Wasabi prices)
#PRICE_GB_MONTH=0.006
#PRICE_GB_DOWNLOAD=0.01
#DRILLS_PER_YEAR=2

## Hardening ("lifeboat PROFILE audit"; docs/hardening.md): give this server credentials that can
## write but not delete, and purge with others (LIFEBOAT_PURGE_USER / LIFEBOAT_PURGE_PASS).
# lock every upload for MAX_AGE on S3 Object Lock / B2 file lock buckets: governance or compliance
#OBJECT_LOCK=governance
# where the copy of GPG_PW or of the secret key kept off this server is (any text)
#KEY_ESCROW='password manager, vault Ops'
# the scheduled run-routine leaves purging to another machine (write-only credentials here)
#ROUTINE_PURGE=no

## Run lifeboat's backup under a wrapper
#DUPL_PRECMD="nice -n 10 ionice -c3"

## Further duplicity options (lifeboat duplicity --help lists what is understood;
## an option Lifeboat does not understand stops the run with an error)
#DUPL_PARAMS="$DUPL_PARAMS --put_your_options_here "

## Databases: copying a live database's files gives a corrupt backup. Lifeboat dumps
## them before every backup (bkp, full, incr), checks each dump, and keeps the previous
## good one when a dump fails (the run then exits 1). Exclude the raw directories
## (/var/lib/postgresql, /var/lib/mysql) in the exclude file.
## Restore one with: lifeboat PROFILE restore-db postgres:NAME [--time 3D] [--into NEWDB]
# PostgreSQL: "all" (pg_dumpall) or database names (pg_dump custom format each)
#DUMP_POSTGRES=all
# run the PostgreSQL tools as this OS user when Lifeboat runs as root (default postgres;
# empty: as root itself, with PGHOST/PGUSER/PGPASSWORD exported below)
#DUMP_POSTGRES_OS_USER=postgres
#export PGHOST=127.0.0.1 PGUSER=postgres
# MySQL/MariaDB: "all" or database names (mysqldump --single-transaction)
#DUMP_MYSQL=all
# credentials in a MySQL option file, never on a command line
#DUMP_MYSQL_DEFAULTS_FILE=/etc/mysql/debian.cnf
# SQLite: database files (copied consistently while the application writes)
#DUMP_SQLITE="/srv/app/db.sqlite3"
#DUMP_SQLITE_TIMEOUT=60
# where dumps go; must be inside SOURCE (default /var/backups/lifeboat)
#DUMP_DIR=/var/backups/lifeboat

## pre and post scripts (files named pre and post next to this conf) run before
## and after each backup, e.g. to stop a service. Use "lifeboat PROFILE pre+bkp_post"
## to skip the backup when pre fails. Both see CMD_PREV, CMD_NEXT, CMD_ERR, PROFILE,
## CONFDIR, SOURCE, TARGET_URL_* in their environment.
`;

export const excludeTemplate = `# Lifeboat exclude file: duplicity's globbing filelist, one pattern per line.
# A line excludes, "+ PATTERN" includes, "- PATTERN" excludes; the first match wins.
# Patterns are absolute paths (starting with SOURCE) or start with **.
# Example for SOURCE=/ :
#   - /proc
#   - /sys
#   - /dev
#   - /run
#   - /tmp
#   - /var/lib/postgresql
#   - /var/lib/mysql
#   - **/.cache

`;

export const importantNote = `IMPORTANT:
  Copy the whole profile folder after the first backup to a safe place: it holds
  the settings and keys needed to restore. Keep the passphrase or secret key
  somewhere other than this server. Test a restore on another machine
  ("lifeboat PROFILE restore /tmp/restore-test") and repeat after changes.
`;
