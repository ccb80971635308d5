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
  # Single-user mode with -j: a statement ends at a semicolon followed by an empty line, and each
  # runs in its own transaction (CREATE DATABASE refuses to run inside one). It exits 0 even when
  # a statement fails, so its output is checked; on failure the half-made cluster is removed so the
  # next start tries again instead of running without the role or the database.
  out=$(printf "CREATE ROLE telemed LOGIN PASSWORD '%s';\n\nCREATE DATABASE telemed OWNER telemed;\n\n" "$escaped" \
    | postgres --single -D "$PGDATA" -j postgres 2>&1) || true
  if printf '%s' "$out" | grep -qE '(ERROR|FATAL|PANIC):'; then
    printf '%s\n' "$out" | grep -E '(ERROR|FATAL|PANIC):' | sed 's/PASSWORD .*/PASSWORD …/' >&2
    find "$PGDATA" -mindepth 1 -delete
    echo "postgres: could not create the telemed role and database" >&2
    exit 1
  fi
  echo "postgres: created the telemed database"
fi
unset POSTGRES_PASSWORD
# The socket in /tmp: with a read-only root file system /run is an empty tmpfs owned by root.
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
