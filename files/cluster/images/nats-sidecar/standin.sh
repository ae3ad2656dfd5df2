#!/bin/sh
# Do-nothing stand-in for the NATS config reloader and metrics exporter of the luban-ci test
# cluster's EventBus (see Dockerfile): no hot reload, no metrics. Sleeps until TERM.
echo "luban-ci test cluster: do-nothing NATS sidecar stand-in (no config reload, no metrics); arguments ignored: $*"
trap 'exit 0' TERM INT
while :; do
  sleep 3600 &
  wait $!
done
