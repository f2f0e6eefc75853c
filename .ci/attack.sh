#!/usr/bin/env bash
# Attack checks against a locally started production stack (python -m tests.attack).
#
# 1. A fresh PostgreSQL database (ATTACK_DATABASE, default appkeeper_fuzzstack), migrated,
#    with the demo fleet and API tokens for alice, bob, carol, pat and fin (as issue_token
#    makes them). load_demo refuses production settings, so this runs with development ones.
# 2. A self-signed certificate for 127.0.0.1 (openssl): gunicorn serves TLS itself, so the
#    production settings run unchanged (SSL redirect, HSTS, Secure cookies).
# 3. gunicorn with APPKEEPER_ENV=production, 2 sync workers, Redis as broker and cache (the
#    DB numbers in ATTACK_REDIS_BROKER_DB / ATTACK_REDIS_CACHE_DB, whose keys are cleared
#    first: the sign-in limiter's counts would otherwise carry over from the last run), no
#    trusted proxy, the telemetry throttle lowered so the runner can reach it. Its whole log
#    goes to $ATTACK_REPORT_DIR/gunicorn.log, which the runner searches for leaked secrets.
# 4. python -m tests.attack prints categories, checks, held, failed, and the failed checks.
# 5. Stop the server; the exit status is the runner's.
#
# Tunables: ATTACK_PORT (18200), ATTACK_DATABASE, ATTACK_REDIS_BROKER_DB (14),
# ATTACK_REDIS_CACHE_DB (15), ATTACK_REPORT_DIR (var/attack); ATTACK_SERVE_ONLY=1 starts the
# stack and keeps it up without running the checks.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=.ci/stack.sh
source .ci/stack.sh
stack_workdir attack appkeeper-attack
trap 'exit 143' TERM INT
PORT=${ATTACK_PORT:-18200}
DATABASE=${ATTACK_DATABASE:-appkeeper_fuzzstack}
BROKER_DB=${ATTACK_REDIS_BROKER_DB:-14}
CACHE_DB=${ATTACK_REDIS_CACHE_DB:-15}
REPORT_DIR=${ATTACK_REPORT_DIR:-$ROOT/var/attack}
LOG=$REPORT_DIR/gunicorn.log
mkdir -p "$REPORT_DIR"
: >"$LOG"

export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DATABASE"
# Limits lower than the defaults, so the runner reaches them in a few requests: each
# failed sign-in costs a password hash (about half a second on a busy machine).
export LOGIN_LIMIT=5 LOGIN_PER_IP=15 TELEMETRY_PER_MIN=30

# 1. Database, demo fleet, tokens.
fresh_database "$DATABASE"
# One process for all of it: each manage.py start costs seconds on a busy machine.
APPKEEPER_ENV=development APPKEEPER_VAR_DIR="$WORK/var" LOG_LEVEL=WARNING \
  "$PY" manage.py shell -c '
import io, json
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("load_demo", usage_days=7, stdout=io.StringIO())
tokens = {}
for user in ["alice", "bob", "carol", "pat", "fin"]:
    out = io.StringIO()
    call_command("issue_token", user, stdout=out, stderr=io.StringIO())
    tokens[user] = out.getvalue().strip().splitlines()[-1]
print(json.dumps(tokens))
' | tail -n1 >"$WORK/tokens.json"

# 2. Certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

# 3. The production stack.
for db in "$BROKER_DB" "$CACHE_DB"; do
  redis-cli -h 127.0.0.1 -n "$db" --scan | xargs -r redis-cli -h 127.0.0.1 -n "$db" del >/dev/null
done
export APPKEEPER_ENV=production
export SECRET_KEY="attack-$(head -c 48 /dev/urandom | base64 | tr -d '/+=')"
export ALLOWED_HOSTS=127.0.0.1,localhost
export CELERY_BROKER_URL="redis://127.0.0.1:6379/$BROKER_DB"
export CACHE_URL="redis://127.0.0.1:6379/$CACHE_DB"
export APPKEEPER_TRUSTED_PROXIES=0
export APPKEEPER_LOGIN_MAX_ATTEMPTS=$LOGIN_LIMIT
export APPKEEPER_LOGIN_MAX_ATTEMPTS_PER_IP=$LOGIN_PER_IP
export APPKEEPER_THROTTLE_TELEMETRY="$TELEMETRY_PER_MIN/min"
# The matrix calls rotate-secret and its kin for every role and app within a minute.
export APPKEEPER_THROTTLE_SENSITIVE=1000/min
# Slack on, so its signed callback endpoint is attacked too (the runner inherits it).
export SLACK_SIGNING_SECRET="attack-slack-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
export APPKEEPER_VAR_DIR="$WORK/var"
export STATIC_ROOT="$WORK/static"
export LOG_LEVEL=INFO
"$PY" manage.py collectstatic --noinput >/dev/null
start_gunicorn "$PORT" --certfile "$WORK/cert.pem" --keyfile "$WORK/key.pem" \
  --access-logfile - --error-logfile - --log-level info >>"$LOG" 2>&1
wait_for_url "https://127.0.0.1:$PORT/healthz" "$LOG" "$WORK/cert.pem"
echo "attack: production stack on https://127.0.0.1:$PORT (database $DATABASE), up after $SECONDS s"

if [[ -n "${ATTACK_SERVE_ONLY:-}" ]]; then
  # For investigating a failed check by hand: the stack stays up until this script is
  # stopped. Tokens: $WORK/tokens.json, certificate: $WORK/cert.pem.
  echo "attack: serving only; tokens in $WORK/tokens.json; stop with Ctrl-C"
  wait "$SERVER_PID"
fi

# 4. The checks, in development settings against the same database (read-only there).
status=0
APPKEEPER_ENV=development ATTACK_BASE_URL="https://127.0.0.1:$PORT" \
  ATTACK_CAFILE="$WORK/cert.pem" ATTACK_TOKENS="$WORK/tokens.json" ATTACK_LOG="$LOG" \
  ATTACK_LOGIN_LIMIT=$LOGIN_LIMIT ATTACK_LOGIN_PER_IP=$LOGIN_PER_IP \
  ATTACK_TELEMETRY_THROTTLE=$TELEMETRY_PER_MIN \
  "$PY" -m tests.attack | tee "$REPORT_DIR/report.txt" || status=$?

# 5. Done.
exit $status
