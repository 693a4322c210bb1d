#!/usr/bin/env bash
# The benchmark suite, from a fresh clone: installs Debian's wrk and pgbench if missing, makes sure the
# local PostgreSQL is up, then runs `python -m bench.run` (arguments pass through; QUICK=1 adds --quick).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null 2>&1 || {
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
    }
}

if ! command -v wrk >/dev/null 2>&1; then
    echo "==> installing Debian's wrk"
    apt_install wrk
fi
pgbench_found() { command -v pgbench >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/pgbench" >/dev/null; }
if ! pgbench_found; then
    echo "==> installing Debian's postgresql-client (pgbench)"
    apt_install postgresql-client
fi

pg_host=127.0.0.1
if ! pg_isready -q -h "$pg_host" -p 5432 2>/dev/null; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        echo "==> installing PostgreSQL"
        apt_install postgresql
    fi
    echo "==> starting PostgreSQL"
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 60); do pg_isready -q -h "$pg_host" -p 5432 && break; sleep 0.5; done
    pg_isready -h "$pg_host" -p 5432
fi

args=()
[ -n "${QUICK:-}" ] && [ "${QUICK}" != 0 ] && args+=(--quick)
exec .venv/bin/python -m bench.run "${args[@]}" "$@"
