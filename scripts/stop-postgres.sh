#!/usr/bin/env bash
# stop-postgres.sh -- stop the dedicated "matchbox" PostgreSQL cluster started
# by scripts/install-postgres.sh. Quiet; succeeds (exit 0) if the cluster does
# not exist or is already stopped. Leaves all other clusters alone.
#
# Usage: sudo scripts/stop-postgres.sh

set -euo pipefail

CLUSTER=matchbox

if [[ $(id -u) -ne 0 ]]; then
    echo "$(basename "$0"): must be run as root (pg_ctlcluster switches to the cluster owner); try: sudo $0" >&2
    exit 1
fi

# No postgresql-common installed means no cluster to stop.
command -v pg_lsclusters >/dev/null 2>&1 || exit 0

# Run from a directory the postgres user can read (avoids pg_ctl warnings).
cd /

# The cluster lives under whichever major the install script chose (15 on
# Debian 12, 17 on Debian 13), so look at every installed major.
for conf_dir in /etc/postgresql/*/"$CLUSTER"; do
    [[ -d $conf_dir ]] || continue
    major=$(basename "$(dirname "$conf_dir")")
    status=$(pg_lsclusters -h "$major" "$CLUSTER" 2>/dev/null | awk '{print $4}')
    [[ $status == online* ]] || continue
    # -m fast: disconnect benchmark clients instead of waiting for them.
    # --skip-systemctl-redirect: the install script started it with pg_ctl
    # directly (there may be no systemd), so stop it the same way.
    if ! out=$(pg_ctlcluster --skip-systemctl-redirect "$major" "$CLUSTER" stop -m fast 2>&1); then
        echo "$(basename "$0"): failed to stop cluster $major/$CLUSTER: $out" >&2
        exit 1
    fi
done
exit 0
