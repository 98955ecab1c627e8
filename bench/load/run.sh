#!/usr/bin/env bash
# Load benchmark of `steward serve`: POST /api/v1/posts driven by wrk, on SQLite and on
# PostgreSQL, with GET /api/v1/health as a no-write baseline. See README.md beside this file.
#
#   bench/load/run.sh                      # both backends, 64 and 256 connections, 20 s each
#   BACKENDS=sqlite CONNECTIONS=64 DURATION=10 bench/load/run.sh
#
# Environment: BACKENDS ("sqlite postgres"), CONNECTIONS ("64 256"), DURATION (seconds, 20),
# CHANNELS ("receiver": escalations are delivered to a live receiver during the run; "none":
# no channel, intake alone),
# THREADS (wrk threads, 2), SENSITIVE_EVERY (10: every 10th post is sensitive),
# STEWARD_TEST_DATABASE_URL (PostgreSQL server, default postgres://postgres@127.0.0.1:5432/test;
# a fresh database is created on it and dropped afterwards), CARGO_TARGET_DIR (default
# /tmp/target-bench), BENCH_OUT (the summary is also written there; default
# /tmp/steward-load-results.txt). All traffic stays on 127.0.0.1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
backends="${BACKENDS:-sqlite postgres}"
connections="${CONNECTIONS:-64 256}"
duration="${DURATION:-20}"
threads="${THREADS:-2}"
sensitive_every="${SENSITIVE_EVERY:-10}"
pg_admin="${STEWARD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/target-bench}"
out="${BENCH_OUT:-/tmp/steward-load-results.txt}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }

work="$(mktemp -d /tmp/steward-load.XXXXXX)"
pids=()
pg_db=""
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "$pg_db" ]]; then
        psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }

# Waits (up to 60 s) until FILE has a line matching REGEX; prints that line.
wait_line() {
    local file="$1" regex="$2" pid="$3" i
    for ((i = 0; i < 600; i++)); do
        if grep -Eq "$regex" "$file" 2>/dev/null; then
            grep -E -m1 "$regex" "$file"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { log "process $pid died; its output:"; cat "$file" >&2; return 1; }
        sleep 0.1
    done
    log "timed out waiting for /$regex/ in $file"
    return 1
}

# Value of KEY=VALUE in the BENCH lines of FILE.
field() { grep -o "\b$2=[^ ]*" "$1" | head -1 | cut -d= -f2; }

log "building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)…"
(cd "$repo" && cargo build --release --quiet -p steward --bin steward -p steward-testkit --bin steward-receiver)
bin="$CARGO_TARGET_DIR/release"

# The receiver: both channels of the desk deliver there.
"$bin/steward-receiver" --http 127.0.0.1:0 --smtp 127.0.0.1:0 --log "$work/received.jsonl" \
    >"$work/receiver.out" 2>&1 &
pids+=($!)
receiver_http="$(wait_line "$work/receiver.out" '^http=' "${pids[-1]}" | sed -E 's/^http=([^ ]+).*/\1/')"
channels="${CHANNELS:-receiver}"
case "$channels" in
    receiver | none) ;;
    *) log "CHANNELS must be receiver or none, not $channels"; exit 2 ;;
esac
if [[ "$channels" == none ]]; then
    : >"$work/steward.toml"
else
cat >"$work/steward.toml" <<EOF
[[channels]]
kind = "mattermost"
id = "chat"
url = "http://$receiver_http/hooks/chat"
channel = "escalations"
username = "steward"

[[channels]]
kind = "webhook"
id = "hook"
url = "http://$receiver_http/hooks/event"
secret = "bench-secret"
EOF
fi

stored_count() { # backend url run
    local sql="SELECT COUNT(*) FROM posts WHERE source = 'bench' AND external_id LIKE '$3-%'"
    case "$1" in
        sqlite) sqlite3 "${2#sqlite://}" "$sql" ;;
        postgres) psql -qtA "$2" -c "$sql" ;;
    esac
}

summary=()
summary+=("$(printf '%-9s %-7s %5s %10s %9s %9s %9s %8s %s' backend target conns 'req/s' 'p50 ms' 'p99 ms' 'max ms' errors 'stored check')")

for backend in $backends; do
    case "$backend" in
        sqlite)
            mkdir -p "$work/sqlite"
            url="sqlite://$work/sqlite/steward.db"
            ;;
        postgres)
            pg_isready -q -d "$pg_admin" || { log "PostgreSQL at $pg_admin is not ready"; exit 2; }
            pg_db="steward_bench_$$_$(date +%s)"
            psql -q "$pg_admin" -c "CREATE DATABASE $pg_db" >/dev/null
            url="${pg_admin%/*}/$pg_db"
            ;;
        *) log "unknown backend $backend"; exit 2 ;;
    esac

    STEWARD_LOG=warn "$bin/steward" serve --config "$work/steward.toml" --listen 127.0.0.1:0 \
        --database "$url" >"$work/serve-$backend.out" 2>"$work/serve-$backend.err" &
    serve_pid=$!
    pids+=("$serve_pid")
    listen="$(wait_line "$work/serve-$backend.out" '^steward: listening on ' "$serve_pid")"
    addr="$(sed -E 's|^steward: listening on http://([^ ]+).*|\1|' <<<"$listen")"
    token="$(sed -n 2p "$work/serve-$backend.out")"
    [[ "$token" == stw_* ]] || { log "no admin token on the 2nd line of steward's output"; exit 1; }
    log "== $backend: steward at $addr (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    summary+=("$backend: load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)")

    for c in $connections; do
        # Baseline: no write.
        res="$work/health-$backend-$c.txt"
        timeout $((duration + 30)) wrk -t"$threads" -c"$c" -d"${duration}s" --timeout 10s \
            -s "$here/health.lua" "http://$addr/api/v1/health" >"$res"
        errors=$(($(field "$res" errors_connect) + $(field "$res" errors_read) + $(field "$res" errors_write) + $(field "$res" errors_timeout) + $(field "$res" errors_status)))
        summary+=("$(printf '%-9s %-7s %5s %10s %9s %9s %9s %8s %s' "$backend" health "$c" \
            "$(field "$res" rps)" "$(field "$res" p50_ms)" "$(field "$res" p99_ms)" "$(field "$res" max_ms)" "$errors" -)")

        # Durable posts.
        run="$backend-c$c-$$"
        res="$work/posts-$backend-$c.txt"
        STEWARD_TOKEN="$token" BENCH_RUN="$run" BENCH_SENSITIVE_EVERY="$sensitive_every" \
            timeout $((duration + 30)) wrk -t"$threads" -c"$c" -d"${duration}s" --timeout 10s \
            -s "$here/posts.lua" "http://$addr/api/v1/posts" >"$res" 2>"$res.err"
        sent=$(field "$res" sent)
        ok=$(field "$res" ok)
        non2xx=$(field "$res" non2xx)
        errors=$((non2xx + $(field "$res" errors_connect) + $(field "$res" errors_read) + $(field "$res" errors_write) + $(field "$res" errors_timeout)))
        # Requests still in flight when wrk stopped may be committed after it stopped
        # waiting; so the check is ok <= stored <= ok + in flight (exact when none were).
        sleep 1
        stored=$(stored_count "$backend" "$url" "$run")
        inflight=$((sent - ok - non2xx))
        if ((stored == ok)); then
            check="stored=$stored == 2xx: OK"
        elif ((stored > ok && stored <= ok + inflight)); then
            check="stored=$stored = 2xx=$ok + $((stored - ok)) of $inflight abandoned in flight at the end: OK"
        else
            check="stored=$stored vs 2xx=$ok (in flight $inflight): MISMATCH"
        fi
        rate=$(awk -v ok="$ok" -v d="$(field "$res" duration_s)" 'BEGIN { printf "%.1f", ok / d }')
        summary+=("$(printf '%-9s %-7s %5s %10s %9s %9s %9s %8s %s' "$backend" posts "$c" \
            "$rate" "$(field "$res" p50_ms)" "$(field "$res" p99_ms)" "$(field "$res" max_ms)" "$errors" "$check")")
        log "$(tail -1 <<<"${summary[-1]}")"
        [[ -s "$res.err" ]] && head -5 "$res.err" >&2
    done

    outbox="$(curl -s "http://$addr/api/v1/health" || true)"
    summary+=("$backend outbox after the run: $outbox")
    kill -TERM "$serve_pid"
    wait "$serve_pid" || true
    if [[ -s "$work/serve-$backend.err" ]]; then
        log "steward ($backend) stderr, last lines:"
        tail -5 "$work/serve-$backend.err" >&2
    fi
    if [[ "$backend" == postgres ]]; then
        psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null
        pg_db=""
    fi
done

{
    echo "steward load benchmark: $(date -u +%FT%TZ), $(nproc) CPUs, wrk -t$threads, ${duration}s per row, 1 post in $sensitive_every sensitive, channels: $channels"
    printf '%s\n' "${summary[@]}"
} | tee "$out"
