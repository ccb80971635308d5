#!/usr/bin/env bash
# Installs the Debian packages Telemed needs, idempotently: a package already installed is never
# touched, and apt is not even consulted when nothing is missing (so a set-up machine pays ~50 ms).
#
#   scripts/system-packages.sh start   what `npm start` needs (mediasoup worker build + run time)
#   scripts/system-packages.sh containers  that, plus podman to build and run the container images
#   scripts/system-packages.sh test    start + containers, plus what `npm test` needs (browsers, PostgreSQL, Redis)
set -euo pipefail

profile="${1:-start}"

# Build the mediasoup worker from Debian's libraries (see shared/docs/mediasoup-worker-offline.md);
# the -dev packages pull in the run-time libraries the binary links to.
worker_build=(ninja-build pkg-config g++ libuv1-dev libssl-dev libsrtp2-dev libusrsctp-dev
  nlohmann-json3-dev libabsl-dev openssl)
backports=(meson)                # bookworm has 1.0.1; mediasoup 3.12.16 needs >= 1.1
test_only=(chromium postgresql redis-server firefox-esr xvfb webkit2gtk-driver
  nftables                       # nft: tests/src/calls/ice-restart.test.ts blocks the media port;
                                 # tests/src/network drops a share of packets (loss profiles)
  iproute2                       # ip netns, veth, tc tbf: tests/src/network (impairment test bed)
  python3                        # tests/src/network/delay-line.py: latency and jitter (no sch_netem here)
  caddy coturn libnss3-tools     # tests/src/deploy: HTTPS proxy, TURN relay, a test CA Chromium trusts
  dnsmasq-base                   # tests/src/deploy/netbed: the bed's DNS (Chromium resolves TURN names through DNS only)
  prometheus                     # promtool: tests/src/ops checks deploy/prometheus (on a systemd host
                                 # the package also enables a Prometheus service on :9090)
  ffmpeg)                        # call recording (ENABLE_CALL_RECORDING): recorder, muxer, ffprobe in tests
# The container images and compose stack (scripts/containers.mjs, deploy/compose.yaml): podman
# builds and runs them, mmdebstrap makes the Debian base image from the archive (no registry),
# runc is the runtime that works without systemd's cgroup layout.
containers=(podman mmdebstrap runc podman-compose
  catatonit                      # --init (compose `init: true`): SIGTERM reaches node, zombies reaped
  golang-github-containernetworking-plugin-dnsname)   # compose services find each other by name (CNI)

wanted=("${worker_build[@]}")
[ "$profile" = "containers" ] || [ "$profile" = "test" ] && wanted+=("${containers[@]}")
[ "$profile" = "test" ] && wanted+=("${test_only[@]}")

run_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

is_installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }

missing=()
for p in "${wanted[@]}"; do is_installed "$p" || missing+=("$p"); done
missing_bp=()
if ! command -v meson >/dev/null 2>&1 || ! dpkg --compare-versions "$(meson --version 2>/dev/null || echo 0)" ge 1.1; then
  missing_bp=("${backports[@]}")
fi

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_bp[@]} -eq 0 ]; then
  echo "[system] all ${#wanted[@]} Debian packages for '$profile' are installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "[system] missing packages: ${missing[*]} ${missing_bp[*]}" >&2
  echo "[system] this machine has no apt-get; install them with your package manager" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ ${#missing_bp[@]} -gt 0 ]; then
  src=/etc/apt/sources.list.d/bookworm-backports.sources
  if [ ! -f "$src" ]; then
    echo "[system] adding bookworm-backports (for meson >= 1.1)"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | run_root tee "$src" >/dev/null
  fi
fi

echo "[system] apt-get update"
run_root apt-get update -q -o=Dpkg::Use-Pty=0 | sed 's/^/[system]   /' | grep -v '^\[system\]   \(Hit\|Get\|Ign\)' || true

if [ ${#missing_bp[@]} -gt 0 ]; then
  echo "[system] installing from bookworm-backports: ${missing_bp[*]}"
  run_root apt-get install -y -q -o=Dpkg::Use-Pty=0 -t bookworm-backports "${missing_bp[@]}" \
    | grep -E '^(Setting up|Unpacking) ' | sed 's/^/[system]   /' || true
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "[system] installing ${#missing[@]} packages: ${missing[*]}"
  run_root apt-get install -y -q -o=Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}" \
    | grep -E '^Setting up ' | sed 's/^/[system]   /' || true
fi

still=()
for p in "${wanted[@]}"; do is_installed "$p" || still+=("$p"); done
if [ ${#still[@]} -gt 0 ]; then
  echo "[system] could not install: ${still[*]} (run: apt-get install ${still[*]})" >&2
  exit 1
fi
echo "[system] done"
