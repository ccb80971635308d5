#!/bin/sh
# deploy/turnserver.conf plus this installation's values, written to a file only this user reads.
# In a container coturn listens on all of its addresses (the published ports choose the host's) and
# speaks TURN over UDP and TCP, and over TLS when deploy/compose.turn-tls.yaml sets TURN_TLS_PORT
# (published on an address of its own, docs/deployment.md 10.2).
#   TURN_SECRET (required)     static-auth-secret, the API's TURN_SECRET
#   TURN_REALM                 default: PUBLIC_URL's host name
#   TURN_PORT                  default 3478 (UDP and TCP)
#   TURN_EXTERNAL_IP           default ANNOUNCED_IP: the address relayed candidates carry
#   TURN_ALLOWED_PEER_IP       the media server's address when it is private (default ANNOUNCED_IP)
#   TURN_MIN_PORT, TURN_MAX_PORT   relay ports (default 49160-49999)
#   TURN_TLS_PORT              TURN over TLS on this port, with /etc/telemed/turn-certs/{cert,key}.pem
#   TURN_LOG_SESSIONS=true     log each session (allocations, refreshes, its end with the user id
#                              and bytes relayed): who used the relay, at about ten lines a session
set -eu
if [ -z "${TURN_SECRET:-}" ]; then
  echo "coturn: TURN_SECRET is not set (the API's TURN_SECRET; see docs/deployment.md)" >&2
  exit 2
fi
certs=/etc/telemed/turn-certs
if [ -n "${TURN_TLS_PORT:-}" ]; then
  for file in cert.pem key.pem; do
    if [ ! -r "$certs/$file" ]; then
      echo "coturn: TURN over TLS needs $file in TURN_CERT_DIR, readable by uid $(id -u) (see docs/deployment.md 10.2)" >&2
      exit 2
    fi
  done
fi
realm=${TURN_REALM:-$(printf '%s' "${PUBLIC_URL:-}" | sed -E 's#^[a-z]+://([^/:]+).*#\1#')}
conf=$(mktemp /tmp/turnserver-XXXXXX.conf)
chmod 600 "$conf"
{
  grep -vE '^(static-auth-secret|realm|listening-port|listening-ip|relay-ip|tls-listening-port|cert|pkey|min-port|max-port|syslog)\b' /etc/telemed/turnserver.conf
  if [ -n "${TURN_TLS_PORT:-}" ]; then
    echo "tls-listening-port=$TURN_TLS_PORT"
    echo "cert=$certs/cert.pem"
    echo "pkey=$certs/key.pem"
  else
    echo "no-tls"
  fi
  echo "static-auth-secret=$TURN_SECRET"
  echo "realm=${realm:-telemed}"
  echo "listening-port=${TURN_PORT:-3478}"
  echo "min-port=${TURN_MIN_PORT:-49160}"
  echo "max-port=${TURN_MAX_PORT:-49999}"
  external=${TURN_EXTERNAL_IP:-${ANNOUNCED_IP:-}}
  [ -n "$external" ] && echo "external-ip=$external"
  allowed=${TURN_ALLOWED_PEER_IP:-${ANNOUNCED_IP:-}}
  [ -n "$allowed" ] && echo "allowed-peer-ip=$allowed"
  echo "log-file=stdout"
  echo "simple-log"
  [ "${TURN_LOG_SESSIONS:-}" = "true" ] && echo "verbose"
  echo "pidfile=/tmp/turnserver.pid"
} > "$conf"
unset TURN_SECRET
exec turnserver -c "$conf"
