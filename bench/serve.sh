#!/usr/bin/env bash
# Start Modelsnest for a side-by-side run with ../shared/bench/compare.sh: a fresh database
# (BENCH_DB=sqlite|postgres), the `deepseek` model routed to the harness's mock on
# 127.0.0.1:$MOCK_PORT, a funded account. Prints "KEY=<token>" and "PID=<pid>" and leaves the
# server running (stop it with: kill -- -<pid>).
#
#   eval "$(bench/serve.sh)"
#   GATEWAY_PID=$PID ../shared/bench/compare.sh http://127.0.0.1:8090/api/v1/chat/completions "Bearer $KEY" modelsnest
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
MS=${MODELSNEST:-$ROOT/.venv/bin/modelsnest}
WORKERS=${WORKERS:-2}
MOCK_PORT=${MOCK_PORT:-18000}
GW_PORT=${GW_PORT:-8090}
BENCH_DB=${BENCH_DB:-sqlite}
VAR=${VAR:-$(mktemp -d /tmp/modelsnest-bench-XXXXXX)}
export MODELSNEST_VAR_DIR="$VAR" MODELSNEST_LOG_LEVEL=WARNING MODELSNEST_SECRET_KEY=bench-secret-key-not-for-production-use
if [ "$BENCH_DB" = postgres ]; then
  PG_URL=${PG_URL:-postgresql://postgres@127.0.0.1:5432/test}
  MODELSNEST_DATABASE_URL=$("$PY" "$ROOT/bench/fresh_db.py" "$PG_URL" modelsnest_bench) || exit 1
  export MODELSNEST_DATABASE_URL
else
  export MODELSNEST_DATABASE_URL="sqlite:///$VAR/bench.db"
fi
{
  "$MS" migrate && "$MS" seed
  "$MS" providers add bench-upstream --kind openai --base-url "http://127.0.0.1:$MOCK_PORT/v1" --api-key sk-bench
  "$MS" routes add deepseek bench-upstream deepseek-v3 --priority 1
  "$MS" users create bench@modelsnest.local --credits 1000000
} >&2
KEY=$("$MS" keys create bench@modelsnest.local --name bench | tail -1)
setsid "$MS" serve --host 127.0.0.1 --port "$GW_PORT" --workers "$WORKERS" > "$VAR/gateway.log" 2>&1 &
echo "KEY=$KEY"
echo "PID=$!"
