#!/bin/sh
# The password goes into a config file on the container's /run tmpfs, not onto the command line.
set -eu
if [ -z "${REDIS_PASSWORD:-}" ]; then
  echo "redis: REDIS_PASSWORD is not set (see docs/deployment.md)" >&2
  exit 2
fi
conf=$(mktemp /tmp/redis-XXXXXX.conf)
chmod 600 "$conf"
printf 'bind * -::*\nprotected-mode no\nport 6379\nsave ""\nappendonly no\nrequirepass "%s"\n' "$REDIS_PASSWORD" > "$conf"
unset REDIS_PASSWORD
exec redis-server "$conf"
