#!/usr/bin/env bash
# Measures the resident memory of the real panel holding a simulated company (Linux).
#
#   scripts/measure-panel-memory.sh [USERS]      (default 100000)
#
# Starts a release gateway with USERS simulated colleagues on a free loopback port and
# the release panel against it (under Xvfb when no DISPLAY is set), waits until the
# load has settled, then prints the panel's resident set: total, peak, anonymous
# (the process's own memory), and what the OpenGL driver's code takes of it.
# Needs: xvfb (when headless), a GL driver (Mesa's llvmpipe without a GPU).
set -euo pipefail

users="${1:-100000}"
settle_secs="${SETTLE_SECS:-10}"
cd "$(dirname "$0")/.."

cargo build --release -p presence-gateway -p presence-panel >&2

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

if [[ -z "${DISPLAY:-}" ]]; then
    Xvfb :97 -screen 0 1400x900x24 >/dev/null 2>&1 &
    pids+=($!)
    export DISPLAY=:97
    sleep 1
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
target/release/presence-gateway --users "$users" --listen "127.0.0.1:$port" \
    --log-level warn >"$work/gateway.log" 2>&1 &
pids+=($!)
# A large company takes the gateway a while to make up: wait until it listens.
for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.5
done

target/release/presence-panel --endpoint "http://127.0.0.1:$port" \
    --settings "$work/settings.toml" --log-level info >"$work/panel.log" 2>&1 &
panel=$!
pids+=("$panel")
# Settled: some seconds after the list is live (the panel logs it).
for _ in $(seq 1 600); do
    if grep -q "live list" "$work/panel.log"; then break; fi
    sleep 0.2
done
grep -o "live list.*" "$work/panel.log" >&2 || echo "the list never went live" >&2
sleep "$settle_secs"

status="/proc/$panel/status"
if [[ ! -r "$status" ]]; then
    echo "the panel exited; its log:" >&2
    cat "$work/panel.log" >&2
    exit 1
fi
kib() { awk -v key="$1" '$1 == key":" { print $2 }' "$2"; }
rss="$(kib VmRSS "$status")"
hwm="$(kib VmHWM "$status")"
anon="$(kib Anonymous "/proc/$panel/smaps_rollup")"
driver="$(awk '/^[0-9a-f]+-[0-9a-f]+ / { file = $6 } /^Rss:/ && file ~ /(libLLVM|_dri\.so|libgallium|libz3)/ { sum += $2 } END { print sum + 0 }' "/proc/$panel/smaps")"
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
echo "panel with $users colleagues, ${settle_secs}s after the list went live:"
echo "  resident:             $(mb "$rss") (peak $(mb "$hwm"))"
echo "  anonymous (own):      $(mb "$anon")"
echo "  GL driver code:       $(mb "$driver") (Mesa/LLVM shared libraries)"
