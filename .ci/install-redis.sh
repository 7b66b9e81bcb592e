#!/usr/bin/env bash
# Install Debian's redis-server when it is not on PATH, for the RedisBus tests
# (tests/webhooks/test_redis.py start their own server on a free loopback port; under
# CI a missing binary fails those tests instead of skipping them). Idempotent: does
# nothing when redis-server is already there. Needs root, or sudo without a password.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
else
    echo "install-redis.sh: redis-server is missing and this is not root (no sudo)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
${as_root[@]+"${as_root[@]}"} apt-get update -qq
${as_root[@]+"${as_root[@]}"} apt-get install -y -qq --no-install-recommends redis-server >/dev/null
command -v redis-server >/dev/null 2>&1
