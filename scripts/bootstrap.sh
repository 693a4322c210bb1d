#!/usr/bin/env bash
# Creates .venv and installs Kasse (and, with --test, its test tools) when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
python=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
stamp=".venv/.kasse-installed${extra:+-test}"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing Kasse${extra:+ with test tools} into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extra}"
    if [ -n "$extra" ]; then
        # Needs pydantic<2 by its metadata; tests/msp_sdk.py runs it on pydantic.v1 (see pyproject.toml).
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps multisafepay==3.1.0
        # Needs pretix by its metadata; the tests import only its API client (requests only).
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps pretix-secuconnect==1.0.4
    fi
    echo "$want" > "$stamp"
fi
