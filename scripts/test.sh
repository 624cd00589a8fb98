#!/usr/bin/env bash
# The README's test command, and what CI runs: on a fresh Debian 12 machine with the .NET 10 SDK, install what
# the tests need (Debian packages, Azurite from npm), start Azurite, build Release and run every test project,
# run the README's main command (shortened), ending with one line: "tests: N passed, N failed, N skipped".
# Extra arguments go to dotnet test (e.g. --filter X).
set -uo pipefail
cd "$(dirname "$0")/.."
set -e
echo "== system packages"
need=()
# fonts-dejavu-core: the plots load a TrueType font from /usr/share/fonts (SkiaSharp sees no system fonts).
for package in dataset-fashion-mnist gnome-backgrounds libjpeg-turbo-progs fonts-dejavu-core chromium; do
  dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -f scripts/azurite.sh ]; then
  echo "== Azurite"
  # Installed even when some Azurite already listens: tests start private instances from node_modules.
  # Again when a package was added since (playwright-core, for the review page test).
  { [ -x node_modules/.bin/azurite ] && [ -d node_modules/playwright-core ]; } || npm ci --no-audit --no-fund --loglevel=error
  bash scripts/azurite.sh start
  trap 'bash scripts/azurite.sh stop || true' EXIT
fi

echo "== restore and build (Release)"
dotnet restore AlexNet.Pipeline.sln
dotnet build AlexNet.Pipeline.sln -c Release --no-restore

echo "== tests"
# Two phases, so that no test that times locks, leases or restarts runs beside one that trains a network on both
# cores (where this suite's flakes came from): first the CPU-bound projects side by side with the README's main
# command (shortened), then the timing-sensitive ones. Every test project is in exactly one phase.
set +e
results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"
phases=(tests/cpu-bound.slnf tests/timing-sensitive.slnf)
in_phases=$(cat "${phases[@]}" | grep -o 'AlexNet\.[A-Za-z.]*Tests\.csproj' | sort)
in_solution=$(grep -o 'AlexNet\.[A-Za-z.]*Tests\.csproj' AlexNet.Pipeline.sln | sort -u)
if [ "$in_phases" != "$in_solution" ]; then
  echo "scripts/test.sh: the test projects of AlexNet.Pipeline.sln and of ${phases[*]} differ:" >&2
  diff <(echo "$in_solution") <(echo "$in_phases") >&2
  exit 1
fi

# The README's main command, with fewer training epochs than its default so that it fits beside the first phase.
demo_log="$results/pipeline-demo.log"
( timeout 900 dotnet run --project src/AlexNet.Cli -c Release --no-build -- pipeline --demo --demo-epochs "${DEMO_EPOCHS:-4}" --port 7181 \
    >"$demo_log" 2>&1; echo "exit $?" >>"$demo_log" ) &
demo=$!

log=$(mktemp)
status=0
for phase in "${phases[@]}"; do
  echo "== tests: $phase"
  started=$SECONDS
  dotnet test "$phase" -c Release --no-build --logger "trx" --results-directory "$results" "$@" 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  echo "== $phase: $((SECONDS - started)) s"
  if [ -n "${demo:-}" ]; then
    wait "$demo"
    echo "== pipeline --demo (README's main command, --demo-epochs ${DEMO_EPOCHS:-4}):"
    tail -n 12 "$demo_log"
    grep -qx 'exit 0' "$demo_log" || { echo "pipeline --demo failed: see $demo_log"; status=1; }
    demo=""
  fi
done
summary=$(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" | awk -F'[:,]' '{f+=$2; p+=$4; s+=$6} END {printf "%d passed, %d failed, %d skipped", p, f, s}')
rm -f "$log"
echo "tests: ${summary:-0 passed, 0 failed, 0 skipped}"
exit "$status"
