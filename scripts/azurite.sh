#!/usr/bin/env bash
# Azurite (Blob, Queue and Table storage emulator) for local runs and CI.
#   scripts/azurite.sh start    install if needed, start in the background, wait until the ports answer
#   scripts/azurite.sh stop     stop the instance this script started
#   scripts/azurite.sh status   say whether the ports answer (exit 0 when all do)
# Data lives in .azurite/ at the repository root (ignored by git).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_dir="$repo_root/.azurite"
pid_file="$data_dir/azurite.pid"
log_file="$data_dir/azurite.log"
host=127.0.0.1
ports=(10000 10001 10002)
start_timeout_s="${AZURITE_START_TIMEOUT_S:-60}"

port_answers() {
    # bash's /dev/tcp avoids depending on nc or curl being installed.
    (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}

all_ports_answer() {
    local port
    for port in "${ports[@]}"; do
        port_answers "$port" || return 1
    done
}

our_pid() {
    [[ -f "$pid_file" ]] || return 1
    local pid
    pid="$(cat "$pid_file")"
    # The process itself or its group: just after the start, setsid may not yet have made the group.
    [[ -n "$pid" ]] && { kill -0 -- "$pid" 2>/dev/null || kill -0 -- "-$pid" 2>/dev/null; } && echo "$pid"
}

ensure_installed() {
    if [[ ! -x "$repo_root/node_modules/.bin/azurite" ]]; then
        echo "azurite: installing from package-lock.json (npm ci)"
        (cd "$repo_root" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

start() {
    if all_ports_answer; then
        echo "azurite: already running on $host:${ports[*]}"
        return 0
    fi
    ensure_installed
    mkdir -p "$data_dir"
    # setsid gives Azurite its own process group, so stop can end npx and node together.
    cd "$repo_root"
    # "--" keeps npm from taking --silent and --location as its own options.
    setsid npx --no -- azurite --silent --disableTelemetry --location "$data_dir" \
        --skipApiVersionCheck --loose \
        --blobHost "$host" --queueHost "$host" --tableHost "$host" \
        >"$log_file" 2>&1 </dev/null &
    echo $! >"$pid_file"
    local deadline=$((SECONDS + start_timeout_s))
    until all_ports_answer; do
        if ! our_pid >/dev/null; then
            echo "azurite: exited during start; log follows ($log_file)" >&2
            cat "$log_file" >&2 || true
            return 1
        fi
        if ((SECONDS >= deadline)); then
            echo "azurite: ports ${ports[*]} did not answer within ${start_timeout_s}s; log: $log_file" >&2
            return 1
        fi
        sleep 0.5
    done
    echo "azurite: running on $host:${ports[*]} (pid $(cat "$pid_file"), data $data_dir)"
}

stop() {
    local pid
    if ! pid="$(our_pid)"; then
        rm -f "$pid_file"
        if all_ports_answer; then
            echo "azurite: ports answer, but not from an instance this script started; left alone"
        else
            echo "azurite: not running"
        fi
        return 0
    fi
    # Signal the whole process group (npx, its shell and node). Azurite closes its ports on SIGTERM but
    # the node process can linger afterwards, so wait for the group to be gone and then force it.
    kill -TERM -- "-$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 -- "-$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if kill -0 -- "-$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
    echo "azurite: stopped"
}

status() {
    if all_ports_answer; then
        echo "azurite: running on $host:${ports[*]}"
    else
        echo "azurite: not running (start it: scripts/azurite.sh start)"
        return 1
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: scripts/azurite.sh start|stop|status" >&2
        exit 2
        ;;
esac
