#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench/qmp-rtt-compare.sh: QMP round trips of vireo against QEMU
# on the same idle guest, with the IPC floors, measured alternately so that
# load on a shared machine hits every server alike.
#
# Usage: scripts/bench/qmp-rtt-compare.sh [-b BUILDDIR] [-r ROUNDS]
#            [-n REQUESTS] [-q QEMU_REQUESTS] [-c CPU] [-o OTHER_VIREO]
# Each round runs build/scripts/bench/qmp-rtt against: the echo server
# (blocking read: the floor), the echo server that polls before each read
# (the floor for any event loop), vireo, and qemu-system-x86_64 -M microvm
# (skipped if not installed).  Prints every run, then per server the median
# of the runs' medians, and vireo/QEMU of those.  -c pins every server and
# client to one CPU: each wake-up is then a local context switch instead of
# an IPI to the other (virtual) CPU, whose cost varies with the host's load,
# and a server's whole per-request cost is on the round trip.  -o adds
# another vireo binary (e.g. a build of an older commit) as server "other".
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
ROUNDS=5
N=30000
QN=10000
PIN=()
OTHER=
while getopts "b:r:n:q:c:o:" o; do
    case $o in
    b) BUILD=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    n) N=$OPTARG ;;
    q) QN=$OPTARG ;;
    c) PIN=(taskset -c "$OPTARG") ;;
    o) OTHER=$OPTARG ;;
    *) sed -n 3,19p "$0"; exit 2 ;;
    esac
done

RTT=$BUILD/scripts/bench/qmp-rtt
VIREO=$BUILD/vireo
GUEST=$BUILD/tests/guest/hlt.bin
QEMU=$(command -v qemu-system-x86_64 || true)
DIR=$(mktemp -d /tmp/qmp-rtt.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT

wait_sock() {
    for _ in $(seq 100); do
        [ -S "$1" ] && return 0
        sleep 0.05
    done
    echo "no socket $1" >&2
    exit 1
}

GUESTARGS=(-nodefaults -nographic -m 16M -serial none -bios "$GUEST")
"${PIN[@]}" "$RTT" --echo "$DIR/echo" &
PIDS+=($!)
"${PIN[@]}" "$RTT" --echo-poll "$DIR/poll" &
PIDS+=($!)
"${PIN[@]}" "$VIREO" "${GUESTARGS[@]}" -qmp "unix:$DIR/vireo,server=on,wait=off" \
    2>/dev/null &
PIDS+=($!)
SERVERS=(echo poll vireo)
if [ -n "$OTHER" ]; then
    "${PIN[@]}" "$OTHER" "${GUESTARGS[@]}" \
        -qmp "unix:$DIR/other,server=on,wait=off" 2>/dev/null &
    PIDS+=($!)
    SERVERS+=(other)
fi
if [ -n "$QEMU" ]; then
    "${PIN[@]}" "$QEMU" -M microvm,accel=kvm "${GUESTARGS[@]}" \
        -qmp "unix:$DIR/qemu,server=on,wait=off" 2>/dev/null &
    PIDS+=($!)
    SERVERS+=(qemu)
fi
for s in "${SERVERS[@]}"; do
    wait_sock "$DIR/$s"
done
# warm up (page faults, caches) before anything is recorded
for s in "${SERVERS[@]}"; do
    "${PIN[@]}" "$RTT" "$DIR/$s" 2000 >/dev/null
done

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg)${PIN:+, pinned: ${PIN[*]}}"
for r in $(seq "$ROUNDS"); do
    for s in "${SERVERS[@]}"; do
        n=$N
        [ "$s" = qemu ] && n=$QN
        line=$("${PIN[@]}" "$RTT" "$DIR/$s" "$n")
        echo "round $r $s: $line"
        echo "$line" | sed -n 's/.*median \([0-9.]*\) us.*/\1/p' >>"$DIR/$s.med"
    done
done

median() {
    sort -g "$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
echo "# median of $ROUNDS run medians (us):"
for s in "${SERVERS[@]}"; do
    printf '%-6s %s\n' "$s" "$(median "$DIR/$s.med")"
done
if [ -n "$QEMU" ]; then
    awk -v v="$(median "$DIR/vireo.med")" -v q="$(median "$DIR/qemu.med")" \
        'BEGIN {printf "vireo/qemu %.3f\n", v / q}'
    paste "$DIR/vireo.med" "$DIR/qemu.med" |
        awk '{r = $1 / $2; if (NR == 1 || r > m) m = r}
             END {printf "worst round vireo/qemu %.3f\n", m}'
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
