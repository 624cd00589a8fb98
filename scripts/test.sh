#!/usr/bin/env bash
# The README's test command, and what CI runs: on a fresh Debian 12 machine with the .NET 10 SDK, install what
# the tests need (Debian packages, Azurite from npm), start Azurite, build Release and run every test project,
# ending with one line: "tests: N passed, N failed, N skipped".
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
  [ -x node_modules/.bin/azurite ] || npm ci --no-audit --no-fund --loglevel=error
  bash scripts/azurite.sh start
  trap 'bash scripts/azurite.sh stop || true' EXIT
fi

echo "== restore and build (Release)"
dotnet restore AlexNet.Pipeline.sln
dotnet build AlexNet.Pipeline.sln -c Release --no-restore

echo "== tests"
set +e
results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"
log=$(mktemp)
dotnet test AlexNet.Pipeline.sln -c Release --no-build --logger "trx" --results-directory "$results" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" | awk -F'[:,]' '{f+=$2; p+=$4; s+=$6} END {printf "%d passed, %d failed, %d skipped", p, f, s}')
rm -f "$log"
echo "tests: ${summary:-0 passed, 0 failed, 0 skipped}"
exit "$status"
