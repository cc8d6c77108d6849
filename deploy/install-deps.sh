#!/usr/bin/env bash
# Installs, from Debian 12's own packages, whatever hallbus needs and this
# machine lacks. Safe to run again: it installs nothing that is there.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  clang libclang-rt-14-dev          # the sanitizer build and the libFuzzer targets
  libzmq3-dev                       # the bus
  libprotobuf-c-dev protobuf-c-compiler  # the wire
  libuv1-dev                        # every daemon's loop
  libsqlite3-dev sqlite3            # durable state
  libcyaml-dev libyaml-dev          # the hall file (and line numbers for its errors)
  libjansson-dev                    # JSON for scripts and browsers
  uthash-dev                        # hash tables
  libcriterion-dev                  # tests
  libsodium-dev                     # SHA-256 chains, HMAC signatures, staff password hashes
  libcurl4-openssl-dev              # webhooks and SMS gateways, on the libuv loop
  libh2o-dev                        # HTTP for the boards (h2o's libuv backend)
  chromium                          # the browser test of the boards
  fonts-wqy-microhei                # Chinese on the boards in a headless browser
  espeak-ng                         # hall-display: announcements to audio files (optional)
)
# the browser test drives Chromium with playwright-core from npm; a machine
# with its own Node.js (and npm) keeps it
command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
