#!/usr/bin/env bash
# Fuzz the REST API from its own OpenAPI schema with schemathesis, once per role.
#
# 1. Create a fresh database (PostgreSQL appkeeper_fuzz when reachable, else SQLite),
#    migrate it and load the demo data.
# 2. Issue API tokens for alice (owner), pat (platform team) and fin (finance).
# 3. Start gunicorn on a free loopback port (never 8000) with throttles opened wide.
# 4. Run `schemathesis run` with its default checks against /api/schema/ for each role,
#    bounded by --max-examples so the whole script stays within a few minutes on 2 cores.
# 5. Stop the server; exit non-zero if any role's run failed.
#
# Tunables: FUZZ_MAX_EXAMPLES (default 8), FUZZ_SEED, FUZZ_DATABASE_URL, FUZZ_ROLES,
# FUZZ_EXTRA_ARGS (passed to schemathesis, e.g. "--include-path-regex /apps/").
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=.ci/stack.sh
source .ci/stack.sh
stack_workdir schemathesis appkeeper-fuzz
REPORT_DIR=${FUZZ_REPORT_DIR:-$ROOT/var/schemathesis}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-8}
SEED=${FUZZ_SEED:-20261101}
ROLES=${FUZZ_ROLES:-"alice pat fin"}

export APPKEEPER_ENV=development
export DEBUG=false
export APPKEEPER_VAR_DIR="$WORK/var"
export CELERY_TASK_ALWAYS_EAGER=true
export APPKEEPER_THROTTLE_SENSITIVE=100000/min
export APPKEEPER_THROTTLE_TELEMETRY=100000/min
export APPKEEPER_THROTTLE_TOKENS=100000/min
export APPKEEPER_LOGIN_MAX_ATTEMPTS=100000
export LOG_LEVEL=WARNING
mkdir -p "$APPKEEPER_VAR_DIR/celery/queue" "$APPKEEPER_VAR_DIR/celery/processed" "$REPORT_DIR"

# 1. A fresh database.
DEFAULT_PG=postgres://postgres@127.0.0.1:5432/appkeeper_fuzz
if [[ -n "${FUZZ_DATABASE_URL:-}" ]]; then
  export DATABASE_URL=$FUZZ_DATABASE_URL
elif command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  fresh_database appkeeper_fuzz
  export DATABASE_URL=$DEFAULT_PG
else
  export DATABASE_URL="sqlite:///$WORK/fuzz.sqlite3"
fi
echo "schemathesis: database ${DATABASE_URL%%\?*}"
"$PY" manage.py migrate --noinput >/dev/null
"$PY" manage.py load_demo >/dev/null

# 2. Tokens (the value is the last line of stdout; the notice goes to stderr).
declare -A TOKENS
for user in $ROLES; do
  TOKENS[$user]=$("$PY" manage.py issue_token "$user" --name fuzz --days 1 | tail -n1)
done

# 3. The server, on a free port.
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
[[ "$PORT" == 8000 ]] && PORT=8765
# --limit-request-line 0: gunicorn's own 4094-byte request-line limit would answer a long
# generated query string with an HTML 414 before Django sees it. That limit belongs to the
# deployment (a proxy in front sets its own), not to the API contract, so the fuzzer tests
# the application without it instead of documenting a text/html 414 on every operation.
start_gunicorn "$PORT" --limit-request-line 0 \
  --log-level warning --error-logfile "$REPORT_DIR/gunicorn.log"
wait_for_url "http://127.0.0.1:$PORT/api/schema/" "$REPORT_DIR/gunicorn.log"

# 4. One run per role. The hooks module hands YAML responses to the checks as text
#    (see .ci/schemathesis_hooks.py). Revoking a token is left out: a generated id may be
#    the very token the run authenticates with, and every later call would be a 401 (the
#    endpoint is covered by tests/catalog/test_api_tokens.py and the permission matrix).
export SCHEMATHESIS_HOOKS=schemathesis_hooks
export PYTHONPATH="$ROOT/.ci${PYTHONPATH:+:$PYTHONPATH}"
status=0
for user in $ROLES; do
  echo "schemathesis: fuzzing as $user (max $MAX_EXAMPLES examples per operation)"
  # shellcheck disable=SC2086
  # Run from the scratch folder: schemathesis keeps its example database in ./.schemathesis.
  if ! (cd "$WORK" && "$BIN/schemathesis" --config-file "$ROOT/.ci/schemathesis.toml" \
      run "http://127.0.0.1:$PORT/api/schema/" \
      --url "http://127.0.0.1:$PORT" \
      -H "Authorization: Token ${TOKENS[$user]}" \
      --max-examples "$MAX_EXAMPLES" --seed "$SEED" --no-shrink \
      --exclude-operation-id tokens_revoke_create \
      --workers 1 --request-timeout 30 \
      --report junit --report-junit-path "$REPORT_DIR/junit-$user.xml" \
      ${FUZZ_EXTRA_ARGS:-}); then
    echo "schemathesis: FAILURES as $user"
    status=1
  fi
done

# 5. Done.
if [[ $status -ne 0 ]]; then
  echo "schemathesis: failed (server log: $REPORT_DIR/gunicorn.log)"
else
  echo "schemathesis: all roles passed"
fi
exit $status
