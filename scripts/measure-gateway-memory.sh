#!/usr/bin/env bash
# What subscribers cost the gateway: its resident memory (Linux, /proc) with no
# subscriber, with N that read, after they leave, with N that stop reading, after those
# are cut off. Usage: scripts/measure-gateway-memory.sh [USERS] [SUBSCRIBERS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
users="${1:-10000}"
subscribers="${2:-200}"
port=50097
cargo build --release -q -p presence-gateway --bin presence-gateway --example hold_subscribers
gateway=target/release/presence-gateway
hold=target/release/examples/hold_subscribers
tmp="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT

"$gateway" --users "$users" --changes-per-sec 100 --listen "127.0.0.1:$port" \
    --version-file "$tmp/versions" --stalled-subscriber-secs 5 --log-level warn &
pid=$!
sleep 3
rss() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }
per() { awk -v a="$1" -v b="$2" -v n="$subscribers" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }'; }

base=$(rss)
echo "gateway with $users colleagues, no subscriber: $base MiB"
"$hold" "http://127.0.0.1:$port" "$subscribers" read 8 > "$tmp/read.out" &
hold_pid=$!
until grep -q ready "$tmp/read.out" 2>/dev/null; do sleep 0.5; done
sleep 2
with=$(rss)
echo "with $subscribers reading subscribers: $with MiB ($(per "$base" "$with") KiB each)"
wait "$hold_pid" || true
sleep 7   # the gateway looks at its subscription count every 5 s
echo "after they left: $(rss) MiB"

"$hold" "http://127.0.0.1:$port" "$subscribers" stop 20 > "$tmp/stop.out" &
hold_pid=$!
until grep -q ready "$tmp/stop.out" 2>/dev/null; do sleep 0.5; done
sleep 2
stuck=$(rss)
echo "with $subscribers subscribers that stopped reading: $stuck MiB ($(per "$base" "$stuck") KiB each)"
sleep 8
echo "after they were cut off (5 s): $(rss) MiB"
kill "$hold_pid" 2>/dev/null || true
sleep 7
echo "after they left: $(rss) MiB"
