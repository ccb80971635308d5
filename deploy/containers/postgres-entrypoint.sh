#!/bin/sh
# First start: a data directory with a `telemed` role (password POSTGRES_PASSWORD, scram) that owns
# a `telemed` database, reachable over the network by password only. Then PostgreSQL itself.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres: POSTGRES_PASSWORD is not set (the telemed role's password; see docs/deployment.md)" >&2
    exit 2
  fi
  initdb --username=postgres --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  echo "host telemed telemed all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  escaped=$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")
  printf "CREATE ROLE telemed LOGIN PASSWORD '%s';\nCREATE DATABASE telemed OWNER telemed;\n" "$escaped" \
    | postgres --single -D "$PGDATA" -j postgres >/dev/null
  echo "postgres: created the telemed database"
fi
unset POSTGRES_PASSWORD
# The socket in /tmp: with a read-only root file system /run is an empty tmpfs owned by root.
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
