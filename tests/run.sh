#!/usr/bin/env bash
# Builds hallbus twice and runs every test in both builds:
#   build/       gcc, -Werror, optimised: unit and end-to-end tests;
#   build-asan/  clang with AddressSanitizer + UndefinedBehaviorSanitizer,
#                the same tests plus a short libFuzzer run of the decoders.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHALLBUS_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHALLBUS_SANITIZE=ON -DHALLBUS_FUZZ=ON -DHALLBUS_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
(cd build && ctest --output-on-failure --timeout 600) || status=1
(cd build-asan && ctest --output-on-failure --timeout 900) || status=1
exit $status
