# Sourced by .ci/schemathesis.sh and .ci/attack.sh (never run alone): what both need to
# stand up the project against a database and wait for it. The caller has set
# `set -euo pipefail` and changed to the repository root.
#
#   stack_workdir NAME PREFIX   a scratch folder ($WORK), removed with the server on exit;
#                               NAME prefixes this file's messages
#   fresh_database DB           drop (closing its connections) and create a PostgreSQL database
#   start_gunicorn PORT ARGS... gunicorn on 127.0.0.1:PORT, 2 workers, in the background
#                               ($SERVER_PID); redirect the call to capture its output
#   wait_for_url URL LOG [CA]   poll URL for 30 s (TLS verified against CA when given); stop
#                               with LOG's tail if the server died meanwhile

ROOT=$(pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PY")
SERVER_PID=""
STACK_NAME=stack

stack_workdir() {
  STACK_NAME=$1
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$2.XXXXXX")
  trap stack_cleanup EXIT
}

stack_cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}

fresh_database() {
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $1" >/dev/null
}

start_gunicorn() {
  local port=$1
  shift
  "$BIN/gunicorn" config.wsgi:application --bind "127.0.0.1:$port" --workers 2 --timeout 60 \
    "$@" &
  SERVER_PID=$!
}

wait_for_url() {
  local url=$1 log=$2 cafile=${3:-}
  for _ in $(seq 1 60); do
    if "$PY" -c '
import ssl, sys, urllib.request
url, cafile = sys.argv[1:3]
context = ssl.create_default_context(cafile=cafile) if cafile else None
urllib.request.urlopen(url, timeout=2, context=context)' "$url" "$cafile" 2>/dev/null; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || {
      echo "$STACK_NAME: gunicorn did not start" >&2
      tail -n 30 "$log" >&2
      exit 1
    }
    sleep 0.5
  done
}
