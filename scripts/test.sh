#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, starts PostgreSQL if it is down,
# installs Debian's Chromium for the browser tests, then lint, types and every test on both databases.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh --test

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1; then
    echo "==> installing Debian's chromium for the browser tests"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi

pg_host=127.0.0.1
if ! pg_isready -q -h "$pg_host" -p 5432 2>/dev/null; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        echo "==> installing PostgreSQL"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
    fi
    echo "==> starting PostgreSQL"
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 60); do pg_isready -q -h "$pg_host" -p 5432 && break; sleep 0.5; done
    pg_isready -h "$pg_host" -p 5432
fi
export KASSE_TEST_DATABASE_URL=${KASSE_TEST_DATABASE_URL:-postgresql://postgres@$pg_host:5432/kasse_test}
db=${KASSE_TEST_DATABASE_URL##*/}
if ! psql -h "$pg_host" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
    psql -h "$pg_host" -U postgres -qc "CREATE DATABASE \"$db\""
fi

echo "==> ruff"
.venv/bin/ruff check src tests
.venv/bin/ruff format --check src tests
echo "==> mypy (strict)"
.venv/bin/mypy
echo "==> pytest (SQLite and PostgreSQL, browser tests in headless Chromium)"
.venv/bin/pytest "$@"
