#!/usr/bin/env bash
# install-postgres.sh -- give this Debian machine a native PostgreSQL with
# pgvector >= 0.8 and run a dedicated "matchbox" cluster on a free loopback port.
#
# Usage:   sudo scripts/install-postgres.sh
# Output:  exactly one stdout line on success, the connection URL:
#            postgresql://postgres:postgres@127.0.0.1:<port>/postgres
#          Everything else (progress, apt/make noise) goes to the log file.
#          On failure: one message on stderr naming the failed step and the log.
#
# Environment:
#   MATCHBOX_PG_PORT   use this port (must be free, or already be the cluster's)
#   MATCHBOX_PG_LOG    log file (default /tmp/matchbox-install-postgres.log)
#   MATCHBOX_DEBIAN_MIRROR  mirror for the trixie deb-src entry (Debian 12 only;
#                      default http://deb.debian.org/debian)
#
# Port: an existing cluster keeps its port (stable URL) unless MATCHBOX_PG_PORT
# asks for another one (then it is moved and restarted) or, when stopped, its
# port has been taken meanwhile (then the next free port from 54329 is used).
# The printed URL is always the authoritative one.
#
# Why a dedicated cluster: the Debian default cluster ("main", port 5432) may be
# used by other things; benchmarks need their own settings and a predictable,
# isolated place that scripts/stop-postgres.sh can stop without side effects.
#
# Idempotent: each step checks first and only acts if needed, so a second run
# does no apt work, no restart, and takes about a second (mostly psql/perl
# start-up of the postgresql-common tools).

set -Eeuo pipefail

SCRIPT_NAME=$(basename "$0")
CLUSTER=matchbox
DEFAULT_PORT=54329
PG_PASSWORD=postgres   # documented test credential; cluster listens on 127.0.0.1 only
LOG=${MATCHBOX_PG_LOG:-/tmp/matchbox-install-postgres.log}
# Separate file (not inside /etc/apt/sources.list) so it is easy to find/remove
# and so we never edit files owned by the system or by other tooling.
TRIXIE_SRC_FILE=/etc/apt/sources.list.d/matchbox-trixie-src.sources
DEBIAN_MIRROR=${MATCHBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CHECK_DB=matchbox_install_check   # throwaway database for the extension check

# --- root check ------------------------------------------------------------
# Done before redirecting output so the message reaches the user's terminal.
if [[ $(id -u) -ne 0 ]]; then
    echo "$SCRIPT_NAME: must be run as root (apt, pg_createcluster and /etc/postgresql need it); try: sudo $0" >&2
    exit 1
fi

# --- lock -------------------------------------------------------------------
# Serialize concurrent runs (two parallel callers would otherwise both try to
# create the cluster or pick the same port). Taken before the log is truncated
# so a waiting run does not wipe the log of the run in progress.
exec 9>/run/lock/matchbox-install-postgres.lock
if ! flock -w 600 9; then
    echo "$SCRIPT_NAME: another $SCRIPT_NAME has been running for 10 minutes (lock /run/lock/matchbox-install-postgres.lock); giving up" >&2
    exit 1
fi

# --- output plumbing -------------------------------------------------------
# fd 3 = the caller's stdout (for the URL only), fd 4 = the caller's stderr (for
# the failure message only). Everything else is appended to the log so callers
# can simply do URL=$(scripts/install-postgres.sh).
exec 3>&1 4>&2
: >"$LOG" 2>/dev/null || { echo "$SCRIPT_NAME: cannot write log file $LOG" >&2; exit 1; }
exec >>"$LOG" 2>&1

STEP="startup"
step() {
    STEP=$1
    printf '[%s] == %s\n' "$(date '+%H:%M:%S')" "$STEP"
}

on_err() {
    local rc=$?
    # Inside a $(...) subshell (the trap is inherited via set -E): just exit;
    # the parent shell then fails too and reports once, with its step name.
    if [[ $BASH_SUBSHELL -gt 0 ]]; then exit "$rc"; fi
    # Show the last meaningful log line in the same message: usually the actual
    # error (apt/make/psql), which saves opening the log for simple failures.
    local last
    last=$(grep -v '^[[:space:]]*$' "$LOG" | grep -v '^\[..:..:..\] == ' | tail -n 1 | cut -c1-200 || true)
    echo "$SCRIPT_NAME: FAILED at step '$STEP' (exit $rc)${last:+; last log line: $last}; full log: $LOG" >&4
    exit "$rc"
}
trap on_err ERR

fail() {   # explicit failure with our own explanation (also logged)
    echo "ERROR: $*"
    # In a subshell, leave the user-facing message to the parent's ERR trap
    # (which quotes this ERROR line) so the user sees exactly one message.
    if [[ $BASH_SUBSHELL -gt 0 ]]; then exit 1; fi
    echo "$SCRIPT_NAME: FAILED at step '$STEP': $*; full log: $LOG" >&4
    exit 1
}

# Run from a directory the postgres user can read, otherwise psql/pg tools run
# via runuser print "could not change directory" warnings.
cd /

export DEBIAN_FRONTEND=noninteractive
# -q and Use-Pty=0 keep the log readable; confold keeps any locally modified
# config files instead of prompting (there is no terminal to answer).
APT_OPTS=(-y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

APT_UPDATED=0
apt_update() {   # at most once per run; only ever called when we must install
    if [[ $APT_UPDATED -eq 0 ]]; then
        apt-get update -q -o Dpkg::Use-Pty=0
        APT_UPDATED=1
    fi
}

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

# Highest PostgreSQL major with a server binary installed (Debian layout).
installed_pg_major() {
    local d majors=()
    for d in /usr/lib/postgresql/*/bin/postgres; do
        [[ -x $d ]] && majors+=("$(basename "$(dirname "$(dirname "$d")")")")
    done
    [[ ${#majors[@]} -gt 0 ]] || return 0
    printf '%s\n' "${majors[@]}" | sort -n | tail -n 1
}

# Where a given major looks for extensions. pg_config (shipped by
# postgresql-client-<major>) is authoritative; fall back to the Debian layout.
pg_sharedir()   { local c=/usr/lib/postgresql/$1/bin/pg_config; if [[ -x $c ]]; then "$c" --sharedir;   else echo "/usr/share/postgresql/$1"; fi; }
pg_pkglibdir()  { local c=/usr/lib/postgresql/$1/bin/pg_config; if [[ -x $c ]]; then "$c" --pkglibdir; else echo "/usr/lib/postgresql/$1/lib"; fi; }

# Prints the installed pgvector default_version for a major, or nothing.
vector_version() {
    local control so
    control="$(pg_sharedir "$1")/extension/vector.control"
    so="$(pg_pkglibdir "$1")/vector.so"
    [[ -f $control && -f $so ]] || return 0
    sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$control" | head -n 1
}

vector_ok() {   # true if pgvector >= 0.8 is installed for major $1
    local v
    v=$(vector_version "$1")
    [[ -n $v ]] && dpkg --compare-versions "$v" ge 0.8
}

# True if some apt source already provides trixie deb-src (one-line .list
# format or deb822 .sources format); then we must not add a duplicate, which
# apt would warn about on every run.
has_trixie_deb_src() {
    local f
    [[ -f $TRIXIE_SRC_FILE ]] && return 0
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        grep -Eq '^[[:space:]]*deb-src([[:space:]]+\[[^]]*\])?[[:space:]]+[^[:space:]]+[[:space:]]+trixie([[:space:]]|$)' "$f" && return 0
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        # Paragraph mode: one deb822 stanza per record.
        awk 'BEGIN { RS = ""; IGNORECASE = 1; found = 0 }
             /(^|\n)Types:[^\n]*deb-src/ && /(^|\n)Suites:[^\n]*[[:space:]]trixie([[:space:]]|$)/ && !/(^|\n)Enabled:[[:space:]]*no/ { found = 1 }
             END { exit !found }' "$f" && return 0
    done
    return 1
}

# Build pgvector from Debian trixie's *source* package against PostgreSQL
# major $1. Debian 12 has no pgvector binary package; trixie's source package
# (0.8.x) is the Debian-reviewed upstream tarball plus Debian patches.
build_pgvector_from_trixie_source() {
    local major=$1 srcdir

    step "add trixie deb-src entry ($TRIXIE_SRC_FILE)"
    if has_trixie_deb_src; then
        echo "trixie deb-src already configured; not adding another entry"
    else
        # Types: deb-src ONLY. Without a "deb" entry apt has no trixie binary
        # package index at all, so `apt-get upgrade`/`install` cannot pick any
        # trixie binaries; only `apt-get source` sees trixie. The bookworm
        # keyring package ships the trixie archive keys, so Signed-By works.
        cat >"$TRIXIE_SRC_FILE" <<EOF
# Added by Matchbox scripts/install-postgres.sh: Debian 13 (trixie) SOURCE
# packages only, used to build pgvector >= 0.8 for PostgreSQL on Debian 12.
# Deliberately no "Types: deb": no trixie binaries can be installed/upgraded.
Types: deb-src
URIs: $DEBIAN_MIRROR
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi

    step "apt-get update"
    apt_update

    step "install build dependencies (postgresql-server-dev-$major, build-essential, dpkg-dev)"
    # Only request packages that are missing: naming an installed package to
    # apt-get install would also upgrade it (e.g. dpkg itself), which the build
    # does not need. dpkg-dev provides dpkg-source, used by `apt-get source`.
    # --no-install-recommends: only what the build needs. Note that
    # postgresql-server-dev-<major> pulls clang/llvm (PGXS emits JIT bitcode)
    # and, via exact-version dependencies, may upgrade postgresql-<major> to
    # the current bookworm(-security) point release -- never from trixie.
    local pkg missing=()
    for pkg in "postgresql-server-dev-$major" build-essential dpkg-dev; do
        pkg_installed "$pkg" || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        apt-get install "${APT_OPTS[@]}" --no-install-recommends "${missing[@]}"
    else
        echo "all build dependencies already installed"
    fi

    step "download pgvector source (apt-get source pgvector/trixie)"
    BUILD_TMP=$(mktemp -d /tmp/matchbox-pgvector.XXXXXX)
    # Global + EXIT trap: removed on success and on failure alike.
    trap 'rm -rf "$BUILD_TMP"' EXIT
    # apt downloads as the unprivileged _apt user, which needs write access to
    # the target directory; otherwise it falls back to root with a warning.
    chown _apt "$BUILD_TMP" 2>/dev/null || chmod 0777 "$BUILD_TMP"
    # "/trixie" makes the choice explicit even if other deb-src entries exist.
    (cd "$BUILD_TMP" && apt-get source -q pgvector/trixie)
    srcdir=$(find "$BUILD_TMP" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
    [[ -n $srcdir ]] || fail "apt-get source did not produce a pgvector-* directory in $BUILD_TMP"

    step "build and install pgvector ($(basename "$srcdir")) for PostgreSQL $major"
    # PG_CONFIG selects the target major (several may be installed). Compiler
    # flags are left as packaged: Debian's "no-native" patch drops
    # -march=native, and pgvector >= 0.7 picks SIMD distance code at run time
    # on x86-64 anyway, so this matches a generic distro/Supabase build.
    make -C "$srcdir" -j"$(nproc)" PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config"
    make -C "$srcdir" install PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config"
}

# Validate MATCHBOX_PG_PORT before doing any work.
if [[ -n ${MATCHBOX_PG_PORT:-} ]]; then
    step "validate MATCHBOX_PG_PORT"
    [[ $MATCHBOX_PG_PORT =~ ^0*[0-9]{1,5}$ ]] && (( 10#$MATCHBOX_PG_PORT >= 1 && 10#$MATCHBOX_PG_PORT <= 65535 )) \
        || fail "MATCHBOX_PG_PORT='$MATCHBOX_PG_PORT' is not a valid port (1-65535)"
    MATCHBOX_PG_PORT=$((10#$MATCHBOX_PG_PORT))   # normalize, e.g. "054329" -> 54329
fi

# --- 1. PostgreSQL + pgvector ----------------------------------------------
step "detect Debian release"
[[ -r /etc/debian_version ]] || fail "/etc/debian_version not found; this script supports Debian 12 and 13 only"
DEBIAN_VERSION=$(cat /etc/debian_version)
echo "Debian $DEBIAN_VERSION"

case $DEBIAN_VERSION in
    13*|trixie*)
        # Debian 13 packages pgvector 0.8 for its PostgreSQL 17.
        PG_MAJOR=17
        step "install postgresql-17 and postgresql-17-pgvector"
        if pkg_installed postgresql-17 && pkg_installed postgresql-17-pgvector && vector_ok 17; then
            echo "already installed"
        else
            apt_update
            apt-get install "${APT_OPTS[@]}" postgresql-17 postgresql-17-pgvector
        fi
        ;;
    12*|bookworm*)
        step "find installed PostgreSQL"
        PG_MAJOR=$(installed_pg_major)
        if [[ -z $PG_MAJOR ]]; then
            step "install postgresql (Debian 12 default major)"
            apt_update
            apt-get install "${APT_OPTS[@]}" postgresql
            PG_MAJOR=$(installed_pg_major)
            [[ -n $PG_MAJOR ]] || fail "postgresql installed but no server found under /usr/lib/postgresql"
        fi
        echo "using PostgreSQL $PG_MAJOR"
        step "check pgvector for PostgreSQL $PG_MAJOR"
        if vector_ok "$PG_MAJOR"; then
            echo "pgvector $(vector_version "$PG_MAJOR") already installed; skipping build"
        else
            echo "pgvector missing or older than 0.8 (found: '$(vector_version "$PG_MAJOR")'); building"
            build_pgvector_from_trixie_source "$PG_MAJOR"
        fi
        ;;
    *)
        fail "unsupported Debian version '$DEBIAN_VERSION' (supported: 12 bookworm, 13 trixie)"
        ;;
esac

step "confirm pgvector >= 0.8 on disk"
vector_ok "$PG_MAJOR" || fail "pgvector for PostgreSQL $PG_MAJOR is '$(vector_version "$PG_MAJOR")', need >= 0.8"
VECTOR_VERSION=$(vector_version "$PG_MAJOR")
echo "pgvector $VECTOR_VERSION for PostgreSQL $PG_MAJOR"

# --- 2. the dedicated cluster -----------------------------------------------
CONF_DIR=/etc/postgresql/$PG_MAJOR/$CLUSTER

# Status column of pg_lsclusters for our cluster ("online", "down", ...).
cluster_status() { pg_lsclusters -h "$PG_MAJOR" "$CLUSTER" 2>/dev/null | awk '{print $4}'; }
cluster_port()   { pg_conftool -s "$PG_MAJOR" "$CLUSTER" postgresql.conf show port; }

# A port is usable if nothing listens on it (any address: a wildcard listener
# would also take 127.0.0.1) and no *other* cluster is configured for it (a
# stopped cluster would clash later, and the unix socket name is per port).
port_free() {
    local p=$1
    ss -Hltn "( sport = :$p )" | grep -q . && return 1
    pg_lsclusters -h | awk -v p="$p" -v me="$PG_MAJOR $CLUSTER" \
        '$3 == p && ($1 " " $2) != me { found = 1 } END { exit !found }' && return 1
    return 0
}

# Decide the port (sets global PORT; not used via $(...) so that fail()
# reports directly): explicit MATCHBOX_PG_PORT wins (must be free); else keep
# $1 (the cluster's current port) if still free, so the URL stays stable; else
# 54329 or the first free port after it.
choose_port() {
    local current=${1:-} p
    if [[ -n ${MATCHBOX_PG_PORT:-} ]]; then
        port_free "$MATCHBOX_PG_PORT" || fail "MATCHBOX_PG_PORT=$MATCHBOX_PG_PORT is already in use"
        PORT=$MATCHBOX_PG_PORT; return 0
    fi
    if [[ -n $current ]] && port_free "$current"; then PORT=$current; return 0; fi
    for (( p = DEFAULT_PORT; p <= 65535; p++ )); do
        if port_free "$p"; then PORT=$p; return 0; fi
    done
    fail "no free TCP port at or above $DEFAULT_PORT"
}

step "check for an existing '$CLUSTER' cluster of another PostgreSQL major"
for d in /etc/postgresql/*/"$CLUSTER"; do
    [[ -f $d/postgresql.conf && $d != "$CONF_DIR" ]] || continue
    fail "found $d, but this machine now uses PostgreSQL $PG_MAJOR; remove it first (pg_dropcluster --stop $(basename "$(dirname "$d")") $CLUSTER)"
done

CHANGED=0   # anything (re)created/(re)configured/(re)started -> full verification

# postgresql.conf (not just the directory) marks an existing cluster:
# pg_dropcluster leaves the directory behind when it contains our conf.d file.
if [[ ! -f $CONF_DIR/postgresql.conf ]]; then
    step "create cluster $PG_MAJOR/$CLUSTER"
    if [[ -d $CONF_DIR ]]; then
        # Leftover of a dropped cluster: remove only what this script wrote
        # (rewritten below anyway) so pg_createcluster finds a clean slate.
        echo "removing leftover $CONF_DIR/conf.d/matchbox.conf"
        rm -f "$CONF_DIR/conf.d/matchbox.conf"
        rmdir "$CONF_DIR/conf.d" "$CONF_DIR" 2>/dev/null || true
    fi
    choose_port
    # Explicit UTF8/C.UTF-8: the container locale may be POSIX, which would give
    # a SQL_ASCII cluster. C.UTF-8 always exists on Debian and sorts bytewise.
    # scram for TCP (the URL's password auth), peer for the local socket (so
    # root can administer via `runuser -u postgres`).
    # (auth options are initdb options, hence after "--").
    pg_createcluster "$PG_MAJOR" "$CLUSTER" -p "$PORT" \
        --encoding UTF8 --locale C.UTF-8 \
        -- --auth-host=scram-sha-256 --auth-local=peer
    CHANGED=1
fi

step "write cluster settings ($CONF_DIR/conf.d/matchbox.conf)"
# Debian's postgresql.conf ends with include_dir = 'conf.d', so this file
# overrides the defaults pg_createcluster wrote, without editing that file.
# Sizing: 2 cores, 24 GB RAM, SSD, vector (HNSW/IVFFlat) benchmarks.
CONF_TMP=$(mktemp)
cat >"$CONF_TMP" <<EOF
# Managed by Matchbox scripts/install-postgres.sh; rewritten on every run.
listen_addresses = '127.0.0.1'         # loopback only: the password is not secret
max_connections = 200                  # headroom for concurrent benchmark clients/pools
shared_buffers = 1GB                   # 100k-1M x 384-d vectors + HNSW index fit comfortably
effective_cache_size = 16GB            # most of the 24 GB is OS page cache
work_mem = 16MB                        # x 200 connections stays well within RAM
maintenance_work_mem = 2GB             # HNSW builds fast only if the graph fits in memory
max_parallel_maintenance_workers = 1   # 2 cores: leader + 1 worker for index builds
max_parallel_workers_per_gather = 1    # 2 cores: concurrency comes from clients, not per query
random_page_cost = 1.1                 # SSD
effective_io_concurrency = 200         # SSD
max_wal_size = 4GB                     # fewer checkpoints during bulk COPY + index build
min_wal_size = 1GB
checkpoint_completion_target = 0.9
EOF
# Parallel HNSW builds put the graph in dynamic shared memory (POSIX shm in
# /dev/shm by default). Containers often have a 64 MB /dev/shm, which fails
# such builds with "could not resize shared memory segment"; fall back to
# mmap'd files in the data directory when /dev/shm is too small.
SHM_KB=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $2}')
if [[ -z $SHM_KB || $SHM_KB -lt $((3 * 1024 * 1024)) ]]; then
    echo "dynamic_shared_memory_type = mmap     # /dev/shm is small (${SHM_KB:-absent} kB)" >>"$CONF_TMP"
fi
mkdir -p "$CONF_DIR/conf.d"
if cmp -s "$CONF_TMP" "$CONF_DIR/conf.d/matchbox.conf"; then
    rm -f "$CONF_TMP"
    SETTINGS_CHANGED=0
else
    install -o postgres -g postgres -m 0644 "$CONF_TMP" "$CONF_DIR/conf.d/matchbox.conf"
    rm -f "$CONF_TMP"
    SETTINGS_CHANGED=1
    CHANGED=1
fi

step "choose port"
CUR_PORT=$(cluster_port)
STATUS=$(cluster_status)
echo "cluster status: $STATUS, configured port: $CUR_PORT"
if [[ $STATUS == online* ]]; then
    # Running: keep its port unless the caller explicitly asked for another.
    PORT=$CUR_PORT
    if [[ -n ${MATCHBOX_PG_PORT:-} && $MATCHBOX_PG_PORT != "$CUR_PORT" ]]; then
        choose_port
    fi
else
    # Stopped: its old port may have been taken by something else meanwhile.
    choose_port "$CUR_PORT"
fi
if [[ $PORT != "$CUR_PORT" ]]; then
    echo "changing port $CUR_PORT -> $PORT"
    pg_conftool "$PG_MAJOR" "$CLUSTER" postgresql.conf set port "$PORT"
    SETTINGS_CHANGED=1
    CHANGED=1
fi

PGCTL=(pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" "$CLUSTER")
# The server daemonizes and inherits our open file descriptors. It must not
# keep fd 3/4 (the caller's stdout/stderr: `URL=$(install-postgres.sh)` would
# never see EOF and hang) nor fd 9 (the lock: the next run would block on it
# for as long as the server lives). So close them for pg_ctlcluster.
pgctl() { "${PGCTL[@]}" "$@" 3>&- 4>&- 9>&-; }
if [[ $STATUS == online* ]]; then
    if [[ $SETTINGS_CHANGED -eq 1 ]]; then
        # listen_addresses, port, shared_buffers, max_connections need a restart.
        step "restart cluster to apply changed settings"
        pgctl restart -m fast
    fi
else
    step "start cluster $PG_MAJOR/$CLUSTER on port $PORT"
    # --skip-systemctl-redirect: there may be no systemd (containers); pg_ctl
    # is run directly and waits until the server accepts connections.
    pgctl start
    CHANGED=1
fi

URL="postgresql://postgres:${PG_PASSWORD}@127.0.0.1:${PORT}/postgres"
export PGCONNECT_TIMEOUT=10
# -X: ignore ~/.psqlrc; ON_ERROR_STOP: fail on the first SQL error.
psql_url() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 "postgresql://postgres:${PG_PASSWORD}@127.0.0.1:${PORT}/$db" "$@"; }
psql_peer() { runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"; }

step "check password login over TCP"
# Cheap check first: only (re)set the password if the URL does not work, so a
# second run does not write to the catalog.
if psql_url postgres -c 'select 1' >/dev/null 2>&1; then
    echo "password login works"
else
    echo "password login failed; setting password for user postgres"
    psql_peer -c "alter user postgres with password '${PG_PASSWORD}'"
    psql_url postgres -c 'select 1' >/dev/null
    CHANGED=1
fi

# --- 3. verification --------------------------------------------------------
if [[ $CHANGED -eq 1 ]]; then
    step "verify pgvector in a throwaway database ($CHECK_DB)"
    # A throwaway database keeps the real "postgres" database free of the
    # extension (the app's migrations create it where they need it).
    psql_url postgres -c "drop database if exists $CHECK_DB"
    psql_url postgres -c "create database $CHECK_DB"
    # Exercise the built library, not just the catalog: types, an operator and
    # an HNSW index build (catches a bad .so, e.g. wrong major or CPU flags).
    EXTVERSION=$(psql_url "$CHECK_DB" <<'SQL'
create extension if not exists vector;
create temp table t (v vector(3));
insert into t values ('[1,2,3]'), ('[3,2,1]'), ('[1,1,1]');
create index on t using hnsw (v vector_cosine_ops);
set enable_seqscan = off;
do $$ begin
  if (select count(*) from (select 1 from t order by v <=> '[1,2,3]' limit 2) s) <> 2 then
    raise exception 'HNSW index scan returned the wrong number of rows';
  end if;
end $$;
select extversion from pg_extension where extname = 'vector';
SQL
)
    psql_url postgres -c "drop database $CHECK_DB"
else
    step "quick check of running cluster"
    EXTVERSION=$(psql_url postgres -c "select default_version from pg_available_extensions where name = 'vector'")
fi
echo "pgvector extversion: ${EXTVERSION:-none}"
[[ -n $EXTVERSION ]] && dpkg --compare-versions "$EXTVERSION" ge 0.8 \
    || fail "server reports pgvector '${EXTVERSION:-none}', need >= 0.8"

step "done"
echo "$URL"
echo "$URL" >&3
