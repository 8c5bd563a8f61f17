#!/usr/bin/env bash
# `make run-cluster`: a private Redis, the sandbox, two app instances under gunicorn and nginx
# terminating TLS in front of them (deploy/nginx, a self-signed certificate), as a deployment
# runs. REDIS_MODE=sentinel gives the apps a primary, a replica and three Sentinels instead of
# one Redis (the sandbox keeps its own); kill the primary to watch a failover. Every port can
# be changed:
#   CLUSTER_PORT=8443 CLUSTER_HTTP_PORT=8080 APP1_PORT=5011 APP2_PORT=5012 SANDBOX_PORT=5001
#   REDIS_PORT=6391, and with REDIS_MODE=sentinel REDIS_PRIMARY_PORT=6392 REDIS_REPLICA_PORT=6393
#   SENTINEL_PORTS="26391 26392 26393"
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER_HOST=${CLUSTER_HOST:-127.0.0.1}
CLUSTER_PORT=${CLUSTER_PORT:-8443}
CLUSTER_HTTP_PORT=${CLUSTER_HTTP_PORT:-8080}
APP1_PORT=${APP1_PORT:-5011}
APP2_PORT=${APP2_PORT:-5012}
SANDBOX_PORT=${SANDBOX_PORT:-5001}
REDIS_PORT=${REDIS_PORT:-6391}
REDIS_MODE=${REDIS_MODE:-single}
REDIS_PRIMARY_PORT=${REDIS_PRIMARY_PORT:-6392}
REDIS_REPLICA_PORT=${REDIS_REPLICA_PORT:-6393}
SENTINEL_PORTS=${SENTINEL_PORTS:-26391 26392 26393}
NGINX=${NGINX:-/usr/sbin/nginx}
RUN_DIR="$PWD/.run/cluster"
PUBLIC_URL="https://$CLUSTER_HOST:$CLUSTER_PORT"

if [ ! -x "$NGINX" ]; then
  echo "run-cluster: nginx is not at $NGINX; install Debian's nginx package or set NGINX" >&2
  exit 1
fi
mkdir -p "$RUN_DIR"
.venv/bin/python deploy/selfsigned.py "$RUN_DIR/tls" "$CLUSTER_HOST" localhost

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() {  # wait_for URL NAME: give each piece 20 s to come up
  for _ in $(seq 200); do
    # The cluster's own certificate is self-signed: trust it, and only it, for this check.
    if .venv/bin/python -c "import ssl, sys, urllib.request; urllib.request.urlopen(sys.argv[1], \
      timeout=1, context=ssl.create_default_context(cafile='$RUN_DIR/tls/cert.pem'))" \
      "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "run-cluster: $2 did not answer at $1; see $RUN_DIR/*.log" >&2
  exit 1
}

redis_node() {  # redis_node PORT NAME [ARGS...]: one redis-server keeping nothing on disk
  local port=$1 name=$2
  shift 2
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$RUN_DIR" --logfile "$RUN_DIR/$name.log" "$@" &
  pids+=($!)
}

redis_node "$REDIS_PORT" redis
APP_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
case $REDIS_MODE in
  single) ;;
  sentinel)
    redis_node "$REDIS_PRIMARY_PORT" redis-primary --repl-diskless-sync-delay 0
    redis_node "$REDIS_REPLICA_PORT" redis-replica --replicaof 127.0.0.1 "$REDIS_PRIMARY_PORT" \
      --repl-diskless-sync-delay 0
    sentinels=()
    for port in $SENTINEL_PORTS; do
      # A Sentinel rewrites its configuration as it learns: each gets a fresh one per run.
      printf '%s\n' "port $port" "bind 127.0.0.1" "dir $RUN_DIR" \
        "logfile $RUN_DIR/sentinel-$port.log" \
        "sentinel monitor portal 127.0.0.1 $REDIS_PRIMARY_PORT 2" \
        "sentinel down-after-milliseconds portal 2000" "sentinel failover-timeout portal 6000" \
        >"$RUN_DIR/sentinel-$port.conf"
      redis-server "$RUN_DIR/sentinel-$port.conf" --sentinel &
      pids+=($!)
      sentinels+=("127.0.0.1:$port")
    done
    APP_REDIS_URL="redis+sentinel://$(IFS=,; echo "${sentinels[*]}")/portal/0"
    ;;
  *)
    echo "run-cluster: REDIS_MODE is single or sentinel, not $REDIS_MODE" >&2
    exit 1
    ;;
esac

# The nginx URLs are not among the demo client's registered ones: add them. The sandbox posts
# back-channel logouts to the instances themselves (nginx's certificate is self-signed), to both:
# each ends the login in the shared Redis, so either one being down loses nothing.
BACKCHANNEL_URIS="http://127.0.0.1:$APP1_PORT/backchannel-logout"
BACKCHANNEL_URIS+=" http://127.0.0.1:$APP2_PORT/backchannel-logout"
SANDBOX_PORT=$SANDBOX_PORT SANDBOX_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  SANDBOX_EXTRA_REDIRECT_URIS="$PUBLIC_URL/callback" \
  SANDBOX_EXTRA_POST_LOGOUT_REDIRECT_URIS="$PUBLIC_URL/signed-out" \
  SANDBOX_EXTRA_BACKCHANNEL_LOGOUT_URIS="$BACKCHANNEL_URIS" \
  .venv/bin/python -m altitudeangel_sandbox >"$RUN_DIR/sandbox.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$SANDBOX_PORT/.well-known/oauth-authorization-server" sandbox

# Every instance must share the session key, or a form served by one fails CSRF at the other.
export SECRET_KEY=${SECRET_KEY:-$(.venv/bin/python -c "import secrets; print(secrets.token_urlsafe(48))")}
export AA_AUTH_URL="http://127.0.0.1:$SANDBOX_PORT"
export AA_REDIRECT_URI="$PUBLIC_URL/callback"
export AA_CLIENT_ID=demo-portal
export AA_CLIENT_SECRET='demo+portal/secret=&%?#2026'
# The local demo: the published sandbox-only SECRET_KEY unless one is set, the /flow trace on.
export PORTAL_DEMO=1
export REDIS_URL="$APP_REDIS_URL"
export SESSION_COOKIE_SECURE=1 TRUST_PROXY=1 FORWARDED_ALLOW_IPS=127.0.0.1 GUNICORN_WORKERS=2
for n in 1 2; do
  port_var="APP${n}_PORT"
  GUNICORN_BIND="127.0.0.1:${!port_var}" .venv/bin/gunicorn -c gunicorn.conf.py \
    --control-socket "$RUN_DIR/app-$n.ctl" wsgi:app >"$RUN_DIR/app-$n.log" 2>&1 &
  pids+=($!)
done
wait_for "http://127.0.0.1:$APP1_PORT/healthz" "app instance 1"
wait_for "http://127.0.0.1:$APP2_PORT/healthz" "app instance 2"

export PORTAL_RUN_DIR="$RUN_DIR" PORTAL_RESOLVER=127.0.0.1 PORTAL_SERVER_NAME="$CLUSTER_HOST"
export PORTAL_UPSTREAM_SERVERS="server 127.0.0.1:$APP1_PORT; server 127.0.0.1:$APP2_PORT;"
export PORTAL_PUBLIC_URL="$PUBLIC_URL" PORTAL_HTTPS_LISTEN="$CLUSTER_HOST:$CLUSTER_PORT"
export PORTAL_HTTP_LISTEN="$CLUSTER_HOST:$CLUSTER_HTTP_PORT"
export PORTAL_TLS_CERTIFICATE="$RUN_DIR/tls/cert.pem" PORTAL_TLS_CERTIFICATE_KEY="$RUN_DIR/tls/key.pem"
export PORTAL_ACCESS_LOG="$RUN_DIR/access.log" PORTAL_ERROR_LOG="$RUN_DIR/error.log"
# Only the ${PORTAL_*} names are filled in; nginx's own $variables stay as they are.
names=$(compgen -e | grep '^PORTAL_' | sed 's/.*/${&}/' | tr '\n' ' ')
for name in portal.conf nginx.conf; do
  envsubst "$names" <"deploy/nginx/$name.template" >"$RUN_DIR/$name"
done
"$NGINX" -p "$RUN_DIR" -e "$RUN_DIR/error.log" -c "$RUN_DIR/nginx.conf" &
pids+=($!)
wait_for "$PUBLIC_URL/healthz" nginx

cat <<MSG

  The portal, behind nginx:  $PUBLIC_URL   (instances on :$APP1_PORT and :$APP2_PORT)
  Its certificate is self-signed ($RUN_DIR/tls/cert.pem): the browser will warn once.
  The sandbox (Altitude Angel stand-in):  http://127.0.0.1:$SANDBOX_PORT
  Logs: $RUN_DIR/*.log (each instance's access log shows which requests it served)
  The apps' Redis: $REDIS_URL

  Sign in as alice / wonderland or bob / builder.  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
