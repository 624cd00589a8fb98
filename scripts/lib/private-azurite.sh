# An Azurite of a script's own (sourced by scripts/scale.sh, latency.sh and idle-sweep.sh):
#   start_private_azurite PORT OUT [AZURITE ARGS...]   blob on PORT, queue PORT+1, table PORT+2, its log in OUT/azurite.log;
#                                                       sets azurite_pid and storage (the connection string), waits until it listens
#   stop_private_azurite                                SIGTERM, then SIGKILL after 10 s: a large in-memory Azurite was seen
#                                                       still serving minutes after SIGTERM
start_private_azurite() {
    local port=$1 out=$2
    shift 2
    [[ -x node_modules/.bin/azurite ]] || { echo "node_modules/.bin/azurite is missing; run npm ci" >&2; return 1; }
    node_modules/.bin/azurite --silent --skipApiVersionCheck --disableTelemetry "$@" \
        --blobPort "$port" --queuePort "$((port + 1))" --tablePort "$((port + 2))" > "$out/azurite.log" 2>&1 &
    azurite_pid=$!
    local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    storage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$((port + 1))/devstoreaccount1;TableEndpoint=http://127.0.0.1:$((port + 2))/devstoreaccount1;"
    for _ in $(seq 1 60); do
        (echo > "/dev/tcp/127.0.0.1/$((port + 2))") 2>/dev/null && return 0
        sleep 0.5
    done
    echo "Azurite did not start on $port-$((port + 2)); see $out/azurite.log" >&2
    return 1
}

stop_private_azurite() {
    [[ -n "${azurite_pid:-}" ]] || return 0
    kill "$azurite_pid" 2>/dev/null || return 0
    for _ in $(seq 1 20); do kill -0 "$azurite_pid" 2>/dev/null || return 0; sleep 0.5; done
    kill -9 "$azurite_pid" 2>/dev/null || true
}
