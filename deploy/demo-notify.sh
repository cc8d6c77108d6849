#!/bin/sh
# The demo hall's "message gateway": hall-notifier runs this once per
# message with the message's JSON on stdin and the citizen's contact in
# HALLBUS_CONTACT; it appends one line per message to the demo's log.
mkdir -p var/run
{ printf '%s ' "$HALLBUS_CONTACT"; cat; echo; } >>var/run/notifications.log
