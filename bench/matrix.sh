#!/usr/bin/env bash
# Every configuration of the README's benchmark table in ONE run, side by side with the machine's
# limit and LiteLLM: the shared harness's mock upstream and LiteLLM launcher
# (../shared/bench), this folder's load generator (the harness's, plus --auth-file for many
# accounts and repeated --url for replicas) and, after each Modelsnest configuration, a ledger
# check (check_ledger.py): every 200 answer has exactly one successful usage row, no hold is
# left open, and balance = Σ ledger for every account.
#
#   bench/matrix.sh                                   # all configurations, about 15 minutes
#   CONFIGS="pg pg64" LITELLM=0 DURATION=5 bench/matrix.sh
#   TREES="after= before=/tmp/old/src" CONFIGS="sqlite pg" bench/matrix.sh   # A/B of two commits
#
# Configurations (CONFIGS): sqlite | pg | pg64 (64 accounts, one key each, one per connection) |
# pg-2rep, pg-3rep (separate `modelsnest serve` processes on one PostgreSQL and Redis, the
# connections spread over them) | pg-nometrics (pg with /metrics off: the cost of the metrics).
# Knobs: TREES NAME CONCURRENCY="1 16 64" DURATION=10 WARMUP=2 GW_WARMUP=10 MODES="chat stream" WORKERS=2
#        REPLICA_WORKERS=1 LITELLM=1 MOCK_PORT=18000 GW_PORT=8090 PG_URL REDIS_URL OUT
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$ROOT/../shared/bench}
BENCH_HOME=${BENCH_HOME:-${TMPDIR:-/tmp}/modelsnest-bench}; export BENCH_HOME; mkdir -p "$BENCH_HOME"
PY=${PYTHON:-$ROOT/.venv/bin/python}
MS=${MODELSNEST:-$ROOT/.venv/bin/modelsnest}
NAME=${NAME:-modelsnest}
TREES=${TREES:-"$NAME="}  # LABEL=SRC_DIR ...: each configuration once per source tree (empty: this one)
CONFIGS=${CONFIGS:-"sqlite pg pg64 pg-2rep pg-3rep pg-nometrics"}
CONCURRENCY=${CONCURRENCY:-"1 16 64"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
GW_WARMUP=${GW_WARMUP:-10}
MODES=${MODES:-"chat stream"}
WORKERS=${WORKERS:-2}
REPLICA_WORKERS=${REPLICA_WORKERS:-1}
LITELLM=${LITELLM:-1}
MOCK_PORT=${MOCK_PORT:-18000}
GW_PORT=${GW_PORT:-8090}
PG_URL=${PG_URL:-postgresql://postgres@127.0.0.1:5432/test}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export LITELLM_WORKERS=${LITELLM_WORKERS:-2} LITELLM_PORT=${LITELLM_PORT:-4000} MOCK_PORT
export LITELLM_MASTER_KEY=${LITELLM_MASTER_KEY:-sk-bench-master}
OUT=${OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)-matrix}
mkdir -p "$OUT"; RESULTS="$OUT/results.jsonl"; : > "$RESULTS"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done; sleep 1
            for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done; return 0; }
trap cleanup EXIT
trap 'exit 130' INT TERM
note() { echo "$*" | tee -a "$OUT/notes.txt" >&2; }
start() { local log=$1; shift; setsid "$@" > "$log" 2>&1 & LAST_PID=$!; PIDS+=("$LAST_PID"); }
stop() { kill -TERM -- "-$1" 2>/dev/null; for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
         kill -KILL -- "-$1" 2>/dev/null; return 0; }
rss_mb() { ps -o rss= -s "$1" 2>/dev/null | awk '{s+=$1} END {printf "%.0f", s/1024}'; }
BODY='{"model":"deepseek","max_tokens":4,"messages":[{"role":"user","content":"ping"}]}'
wait_ok() {  # wait_ok SECONDS URL AUTH: poll until one completion answers 200
  local end=$(( $(date +%s) + $1 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H "Authorization: $3" -H 'Content-Type: application/json' -d "$BODY" "$2")" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}

ANSWERED=0
load() {  # load LABEL MODE C DURATION WARMUP AUTHARGS... URLARGS...: one loadgen run -> results
  local label=$1 mode=$2 c=$3 d=$4 w=$5; shift 5
  local line
  line=$(timeout $(( d + w + 60 )) "$PY" "$ROOT/bench/loadgen.py" "$@" --mode "$mode" -c "$c" -d "$d" \
         --warmup "$w" --timeout 30 --json) || { note "  !! loadgen failed: $label $mode c=$c"; return; }
  ANSWERED=$(( ANSWERED + $(echo "$line" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["answered_200"])') ))
  [ "$label" = warm ] || echo "$line" | "$PY" -c "import json,sys; d=json.load(sys.stdin); d['target']='$label'; print(json.dumps(d))" >> "$RESULTS"
}
matrix() {  # matrix LABEL ARGS...: the mode x concurrency matrix
  local label=$1; shift
  for mode in $MODES; do for c in $CONCURRENCY; do
    echo "  $label mode=$mode c=$c ..." >&2
    load "$label" "$mode" "$c" "$DURATION" "$WARMUP" "$@"
  done; done
}

# 1. the harness's mock upstream, then direct
for port in "$MOCK_PORT" "$LITELLM_PORT" "$GW_PORT"; do
  curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/" && { note "port $port is in use: stop whatever listens there"; exit 1; }
done
note "machine: $(nproc) cores, $(uname -r); $(git -C "$ROOT" log -1 --format='%h %s' | cut -c1-80); results in $OUT"
start "$OUT/mock.log" "$PY" "$HARNESS/mock_upstream.py" --port "$MOCK_PORT" --workers 2
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$MOCK_PORT/v1/models" && break; sleep 0.1; done
matrix direct --url "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" --auth "Bearer sk-direct"

# 2. LiteLLM (no database: its fastest mode), through the harness's launcher
if [ "$LITELLM" = 1 ]; then
  LURL="http://127.0.0.1:$LITELLM_PORT/v1/chat/completions"; LAUTH="Bearer $LITELLM_MASTER_KEY"
  t0=$(date +%s.%N); start "$OUT/litellm.log" "$HARNESS/run_litellm.sh" plain; LPID=$LAST_PID
  if wait_ok 240 "$LURL" "$LAUTH"; then
    note "litellm $LITELLM_WORKERS workers: start to first answer $(echo "$(date +%s.%N) - $t0" | bc) s; idle RSS $(rss_mb "$LPID") MB"
    load warm chat 16 "$GW_WARMUP" 0 --url "$LURL" --auth "$LAUTH"
    matrix litellm --url "$LURL" --auth "$LAUTH"
  else
    note "litellm did not answer in 240 s"; tail -5 "$OUT/litellm.log" >&2
  fi
  stop "$LPID"
fi

# 3. each Modelsnest configuration on a fresh database
fresh_db() { "$PY" "$ROOT/bench/fresh_db.py" "$PG_URL" "$1"; }  # fresh_db NAME -> its URL
for config in $CONFIGS; do for tree in $TREES; do
  label=${tree%%=*}; src=${tree#*=}
  if [ -n "$src" ]; then export PYTHONPATH=$src; else unset PYTHONPATH; fi
  run="$label-$config"; VAR="$OUT/$run"; mkdir -p "$VAR"
  export MODELSNEST_VAR_DIR="$VAR" MODELSNEST_LOG_LEVEL=WARNING MODELSNEST_SECRET_KEY=bench-secret-key-not-for-production-use
  export MODELSNEST_METRICS_ENABLED=true
  unset MODELSNEST_REDIS_URL
  accounts=1 replicas=1 workers=$WORKERS
  case $config in
    sqlite) export MODELSNEST_DATABASE_URL="sqlite:///$VAR/bench.db" ;;
    pg) export MODELSNEST_DATABASE_URL=$(fresh_db modelsnest_bench) ;;
    pg64) export MODELSNEST_DATABASE_URL=$(fresh_db modelsnest_bench); accounts=64 ;;
    pg-nometrics) export MODELSNEST_DATABASE_URL=$(fresh_db modelsnest_bench) MODELSNEST_METRICS_ENABLED=false ;;
    pg-*rep) export MODELSNEST_DATABASE_URL=$(fresh_db modelsnest_bench) MODELSNEST_REDIS_URL=$REDIS_URL
             replicas=${config#pg-}; replicas=${replicas%rep}; accounts=64; workers=$REPLICA_WORKERS ;;
    *) note "unknown configuration $config"; continue ;;
  esac
  { "$MS" migrate && "$MS" seed
    "$MS" providers add bench-upstream --kind openai --base-url "http://127.0.0.1:$MOCK_PORT/v1" --api-key sk-bench
    "$MS" routes add deepseek bench-upstream deepseek-v3 --priority 1; } > "$VAR/setup.log" 2>&1 || { note "$run: setup failed"; continue; }
  "$PY" "$ROOT/bench/accounts.py" "$accounts" > "$VAR/auth.txt" 2>> "$VAR/setup.log" || { note "$run: accounts failed"; continue; }
  urls=(); gw_pids=(); t0=$(date +%s.%N)
  for r in $(seq 0 $(( replicas - 1 ))); do
    port=$(( GW_PORT + r ))
    start "$VAR/gateway-$r.log" "$MS" serve --host 127.0.0.1 --port "$port" --workers "$workers"; gw_pids+=("$LAST_PID")
    urls+=(--url "http://127.0.0.1:$port/api/v1/chat/completions")
  done
  probes=0
  for r in $(seq 0 $(( replicas - 1 ))); do
    wait_ok 90 "http://127.0.0.1:$(( GW_PORT + r ))/api/v1/chat/completions" "$(head -1 "$VAR/auth.txt")" || { note "$run: replica $r did not answer"; }
    probes=$(( probes + 1 ))
  done
  rss=0; for p in "${gw_pids[@]}"; do rss=$(( rss + $(rss_mb "$p") )); done
  note "$run: $replicas replica(s) x $workers worker(s), $accounts account(s): start to first answer $(echo "$(date +%s.%N) - $t0" | bc) s; idle RSS $rss MB"
  ANSWERED=$probes
  load warm chat 16 "$GW_WARMUP" 0 "${urls[@]}" --auth-file "$VAR/auth.txt"
  matrix "$run" "${urls[@]}" --auth-file "$VAR/auth.txt"
  for p in "${gw_pids[@]}"; do stop "$p"; done
  if "$PY" "$ROOT/bench/check_ledger.py" --answered "$ANSWERED" > "$VAR/ledger.json" 2>> "$VAR/setup.log"; then
    note "$run: ledger check passed ($(cat "$VAR/ledger.json"))"
  else
    note "$run: LEDGER CHECK FAILED ($(cat "$VAR/ledger.json"))"
  fi
done; done
unset PYTHONPATH

"$PY" "$ROOT/bench/report.py" "$RESULTS" | tee "$OUT/table.md"
