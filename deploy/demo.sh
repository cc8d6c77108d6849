#!/usr/bin/env bash
# The demo hall in one command: installs what is missing, builds, and starts
# every daemon (bus, queue, display, audit, counter, notifier) and a traffic
# generator on deploy/demo-hall.yaml.
#   deploy/demo.sh          start (or restart) the demo hall
#   deploy/demo.sh stop     stop it
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=deploy/demo-hall.yaml
RUN=var/run
mkdir -p "$RUN"

stop() {
  for name in hall-traffic hall-notifier hall-counter hall-audit hall-display hall-queue hall-bus; do
    pidfile="$RUN/$name.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = "stop" ]; then
  stop
  echo "demo hall stopped"
  exit 0
fi

deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
stop

start() {
  local name=$1; shift
  nohup "build/bin/$name" "$@" >>"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}
# secure by default: every link speaks CURVE with the keys of the hall's
# keys_dir (var/keys); made on the first start, kept after (no plain mode)
build/bin/hallctl -c "$CONFIG" keys init >/dev/null
start hall-bus -c "$CONFIG"
start hall-queue -c "$CONFIG"
for _ in $(seq 100); do
  build/bin/hallctl -c "$CONFIG" --timeout 200 status >/dev/null 2>&1 && break
done
start hall-display -c "$CONFIG"
start hall-audit -c "$CONFIG"
start hall-counter -c "$CONFIG"
start hall-notifier -c "$CONFIG"
start hall-traffic -c "$CONFIG" --rate 40 --service-time 25

cat <<MSG

The demo hall is running (logs in $RUN/).
  Hall board:     http://127.0.0.1:8080/        (window screens: /window/1 ... /window/12)
Try:
  build/bin/hallctl -c $CONFIG status          # the hall now
  build/bin/hallctl -c $CONFIG events          # the live event stream (Ctrl-C to stop)
  build/bin/hallctl -c $CONFIG board           # the hall board in this terminal
  build/bin/hallctl -c $CONFIG audit tail --follow   # the tamper-evident record, live
  build/bin/hallctl -c $CONFIG audit verify    # prove nobody edited it
  build/bin/hallctl -c $CONFIG report --html --output var/report.html   # the day's review
  build/bin/hallctl -c $CONFIG take A --green elderly
  build/bin/hallctl -c $CONFIG notify status   # what hall-notifier sent; the messages: $RUN/notifications.log
  deploy/demo.sh stop                          # stop the demo hall
MSG
build/bin/hallctl -c "$CONFIG" status
