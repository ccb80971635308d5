#!/usr/bin/env python3
"""A delay line for one namespace's link: latency and jitter on a kernel without sch_netem.

This machine's kernel has no netem (nor fq or etf), so the test bed delays packets in user space,
through two TUN devices this process creates in the namespace it runs in (testbed.ts wires them):

  uplink    the namespace routes the SFU's address into UP; packets read from it wait, then leave
            through a raw socket whose mark selects a routing table that sends them out of the
            namespace's veth as usual (so the link's rate cap still applies after the delay);
  downlink  a tc filter on the veth's ingress redirects every IPv4 packet into DOWN; packets read
            from it wait, then are written back into DOWN, which delivers them to the namespace.

Each packet waits `delay ± jitter` ms (uniform), but never leaves before the one ahead of it in
the same direction: jitter without reordering, as on a real path where a queue varies.

Settings arrive on stdin, one line each: `UP_DELAY UP_JITTER DOWN_DELAY DOWN_JITTER` (ms), and
apply to packets read after it. `ready` is printed once both devices exist. Stdin's end stops the
process; its TUN devices, and the routes through them, go with it.
"""
import argparse
import fcntl
import heapq
import os
import random
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
SO_MARK = 36
# A queue this long at video rates is seconds of traffic: past it the link drops, as a full one does.
MAX_QUEUED = 20000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--up", required=True, help="the uplink TUN device's name")
    parser.add_argument("--down", required=True, help="the downlink TUN device's name")
    parser.add_argument("--mark", type=lambda v: int(v, 0), required=True, help="the mark of delayed uplink packets")
    args = parser.parse_args()

    up = open_tun(args.up)
    down = open_tun(args.down)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.setsockopt(socket.SOL_SOCKET, SO_MARK, args.mark)
    settings = {up: (0.0, 0.0), down: (0.0, 0.0)}
    last_departure = {up: 0.0, down: 0.0}
    queue = []  # (departure, sequence, device, packet)
    sequence = 0
    stdin = sys.stdin.fileno()
    print("ready", flush=True)

    def emit(device, packet):
        try:
            if device == up:
                raw.sendto(packet, (socket.inet_ntoa(packet[16:20]), 0))
            else:
                os.write(down, packet)
        except OSError:
            pass  # a drop further on (a full queue, a firewall rule), as the link would

    pending_input = b""
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        readable, _, _ = select.select([stdin, up, down], [], [], timeout)
        for fd in readable:
            if fd == stdin:
                chunk = os.read(stdin, 4096)
                if not chunk:
                    return
                pending_input += chunk
                while b"\n" in pending_input:
                    line, pending_input = pending_input.split(b"\n", 1)
                    values = [float(v) / 1000 for v in line.split()]
                    if len(values) == 4:
                        settings[up] = (values[0], values[1])
                        settings[down] = (values[2], values[3])
                continue
            while True:
                try:
                    packet = os.read(fd, 65535)
                except BlockingIOError:
                    break
                if len(packet) < 20 or packet[0] >> 4 != 4 or len(queue) >= MAX_QUEUED:
                    continue
                delay, jitter = settings[fd]
                departure = max(time.monotonic() + delay + random.uniform(-jitter, jitter), last_departure[fd])
                last_departure[fd] = departure
                sequence += 1
                heapq.heappush(queue, (departure, sequence, fd, packet))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, device, packet = heapq.heappop(queue)
            emit(device, packet)


if __name__ == "__main__":
    main()
