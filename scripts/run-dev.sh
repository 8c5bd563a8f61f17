#!/usr/bin/env bash
# `make run`: a private Redis, the sandbox and the app under gunicorn, wired together.
set -euo pipefail
cd "$(dirname "$0")/.."

REDIS_PORT=${REDIS_PORT:-6390}
APP_PORT=${APP_PORT:-5000}
SANDBOX_PORT=${SANDBOX_PORT:-5001}
RUN_DIR=.run
mkdir -p "$RUN_DIR"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$RUN_DIR" --logfile "$PWD/$RUN_DIR/redis.log" &
pids+=($!)

export SANDBOX_PORT SANDBOX_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
# The sandbox registers port 5000's URLs for demo-portal; another APP_PORT needs its own, as
# run-cluster.sh does, or the sandbox refuses every sign-in ("redirect_uri ... not registered")
# and tells the app nothing of a sign-out at the sandbox (AA_SCOPES with openid).
export SANDBOX_EXTRA_REDIRECT_URIS="http://127.0.0.1:$APP_PORT/callback"
export SANDBOX_EXTRA_POST_LOGOUT_REDIRECT_URIS="http://127.0.0.1:$APP_PORT/signed-out"
export SANDBOX_EXTRA_BACKCHANNEL_LOGOUT_URIS="http://127.0.0.1:$APP_PORT/backchannel-logout"
.venv/bin/python -m altitudeangel_sandbox &
pids+=($!)

export AA_AUTH_URL="http://127.0.0.1:$SANDBOX_PORT"
export AA_REDIRECT_URI="http://127.0.0.1:$APP_PORT/callback"
export AA_CLIENT_ID=demo-portal
export AA_CLIENT_SECRET='demo+portal/secret=&%?#2026'
# The local demo: the published sandbox-only SECRET_KEY unless one is set, the /flow trace on.
export PORTAL_DEMO=1
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export GUNICORN_BIND="127.0.0.1:$APP_PORT"
.venv/bin/gunicorn -c gunicorn.conf.py wsgi:app &
pids+=($!)

sleep 2
cat <<MSG

  The portal is running:  http://127.0.0.1:$APP_PORT
  The sandbox (Altitude Angel stand-in):  http://127.0.0.1:$SANDBOX_PORT

  Sign in as alice / wonderland or bob / builder.  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
