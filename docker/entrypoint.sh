#!/bin/sh
# Starts the gateway as PID 1 (exec), so SIGTERM from `docker stop` reaches it directly and it exits cleanly.
# The config file is optional: without /etc/scep-gateway/scep.yaml the built-in defaults run.
set -eu
config=/etc/scep-gateway/scep.yaml
if [ -f "$config" ]; then
  exec /usr/local/bin/scep-gateway serve --config "$config" --data-dir /var/lib/scep-gateway "$@"
fi
exec /usr/local/bin/scep-gateway serve --data-dir /var/lib/scep-gateway "$@"
