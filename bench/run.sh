#!/usr/bin/env bash
# Modelsnest gateway benchmark: direct to a fast fake upstream (the machine's limit) vs.
# Modelsnest with authentication, holds, settlement and usage logs all on, side by side.
#
#   bench/run.sh                 # SQLite (embedded default)
#   BENCH_DB=postgres bench/run.sh
#   LITELLM=1 bench/run.sh       # also LiteLLM, through ../shared/bench/compare.sh when present
#
# Knobs: CONCURRENCY="1 16 64" DURATION=10 WARMUP=2 MODES="chat stream" WORKERS=2
#        MOCK_PORT=18000 GW_PORT=8090 BENCH_DB=sqlite|postgres PG_URL=postgresql://postgres@127.0.0.1/test
# Every process it starts is stopped on exit; all traffic stays on 127.0.0.1.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
MS=${MODELSNEST:-$ROOT/.venv/bin/modelsnest}
CONCURRENCY=${CONCURRENCY:-"1 16 64"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
MODES=${MODES:-"chat stream"}
WORKERS=${WORKERS:-2}
MOCK_PORT=${MOCK_PORT:-18000}
GW_PORT=${GW_PORT:-8090}
BENCH_DB=${BENCH_DB:-sqlite}
OUT=${OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)-$BENCH_DB}
mkdir -p "$OUT"; RESULTS="$OUT/results.jsonl"; : > "$RESULTS"
VAR="$OUT/var"; mkdir -p "$VAR"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done; sleep 1
            for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM
note() { echo "$*" | tee -a "$OUT/notes.txt" >&2; }
rss_mb() { ps -o rss= -s "$1" 2>/dev/null | awk '{s+=$1} END {printf "%.0f", s/1024}'; }

export MODELSNEST_VAR_DIR="$VAR" MODELSNEST_LOG_LEVEL=WARNING MODELSNEST_SECRET_KEY=bench-secret-key-not-for-production-use
if [ "$BENCH_DB" = postgres ]; then
  PG_URL=${PG_URL:-postgresql://postgres@127.0.0.1:5432/test}
  MODELSNEST_DATABASE_URL=$("$PY" "$ROOT/bench/fresh_db.py" "$PG_URL" modelsnest_bench) || exit 1
  export MODELSNEST_DATABASE_URL
else
  export MODELSNEST_DATABASE_URL="sqlite:///$VAR/bench.db"
fi

# 1. the fake upstream
setsid "$PY" "$ROOT/bench/fake_upstream.py" --port "$MOCK_PORT" --workers 2 > "$OUT/mock.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$MOCK_PORT/v1/models" && break; sleep 0.1; done

# 2. Modelsnest: schema, catalog, a provider for the fake, a funded account and key
"$MS" migrate >/dev/null && "$MS" seed >/dev/null || { note "setup failed"; exit 1; }
"$MS" providers add bench-upstream --kind openai --base-url "http://127.0.0.1:$MOCK_PORT/v1" --api-key sk-bench >/dev/null
"$MS" routes add deepseek bench-upstream deepseek-v3 --priority 1 >/dev/null
"$MS" users create bench@modelsnest.local --credits 1000000 >/dev/null
KEY=$("$MS" keys create bench@modelsnest.local --name bench | tail -1)
AUTH="Bearer $KEY"
URL="http://127.0.0.1:$GW_PORT/api/v1/chat/completions"
BODY='{"model":"deepseek","max_tokens":4,"messages":[{"role":"user","content":"ping"}]}'
t0=$(date +%s.%N)
setsid "$MS" serve --host 127.0.0.1 --port "$GW_PORT" --workers "$WORKERS" > "$OUT/gateway.log" 2>&1 & GW=$!; PIDS+=($GW)
until [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $AUTH" -H 'Content-Type: application/json' -d "$BODY" "$URL")" = 200 ]; do
  sleep 0.05; [ "$(echo "$(date +%s.%N) - $t0 > 60" | bc)" = 1 ] && { note "gateway did not answer"; tail "$OUT/gateway.log"; exit 1; }
done
t1=$(date +%s.%N)
note "modelsnest ($BENCH_DB, $WORKERS workers): start to first answer $(echo "$t1 - $t0" | bc) s"
sleep 2; note "modelsnest idle RSS: $(rss_mb "$GW") MB for $WORKERS workers + supervisor ($(ps -o rss= -s "$GW" | awk '{printf "%.0f ", $1/1024}')MB each)"

bench() {
  local label=$1 url=$2 auth=$3
  for mode in $MODES; do for c in $CONCURRENCY; do
    echo "  $label mode=$mode c=$c ..." >&2
    timeout $((DURATION + WARMUP + 60)) "$PY" "$ROOT/bench/loadgen.py" --url "$url" --auth "$auth" --mode "$mode" \
      -c "$c" -d "$DURATION" --warmup "$WARMUP" --timeout 30 --json \
      | "$PY" -c "import json,sys; d=json.load(sys.stdin); d['target']='$label'; print(json.dumps(d))" >> "$RESULTS"
  done; done
}
# Warm every worker (lazy imports, pools), then measure both, back to back.
timeout 60 "$PY" "$ROOT/bench/loadgen.py" --url "$URL" --auth "$AUTH" -c 16 -d 5 --warmup 0 --json > /dev/null
bench direct "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" "Bearer sk-direct"
bench "modelsnest-$BENCH_DB" "$URL" "$AUTH"
note "modelsnest RSS after load: $(rss_mb "$GW") MB"
"$MS" credits show bench@modelsnest.local 2>/dev/null | tee -a "$OUT/notes.txt" >&2
"$PY" "$ROOT/bench/report.py" "$RESULTS" | tee "$OUT/table.md"
