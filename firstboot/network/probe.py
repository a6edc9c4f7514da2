"""Does an address answer? One ICMP echo at a time over a raw socket, until a deadline.

Run as ``python -m firstboot.network.probe ADDRESS SECONDS`` (exit 0 when it answered) so
the wizard can run it inside another network namespace (``ip netns exec``) in tests.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import subprocess
import sys
import time


def answers(address: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    ident = os.getpid() & 0xFFFF
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        for seq in range(1, 1 << 16):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                sock.sendto(_echo_request(ident, seq), (address, 0))
            except OSError:
                time.sleep(min(0.5, remaining))  # no route yet: the address is still coming
                continue
            if _await_reply(sock, ident, min(1.0, remaining)):
                return True
    return False


def answers_in(netns: str, address: str, timeout_s: float) -> bool:
    """``answers`` run in a network namespace, or here when ``netns`` is empty."""
    if not netns:
        return answers(address, timeout_s)
    command = ["ip", "netns", "exec", netns, sys.executable, "-m", "firstboot.network.probe",
               address, str(timeout_s)]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def _await_reply(sock: socket.socket, ident: int, wait_s: float) -> bool:
    end = time.monotonic() + wait_s
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return False
        packet = sock.recv(2048)
        header = (packet[0] & 0x0F) * 4  # raw ICMP sockets hand us the IP header too
        kind, _code, _sum, reply_id = struct.unpack("!BBHH", packet[header:header + 6])
        if kind == 0 and reply_id == ident:
            return True
    return False


def _echo_request(ident: int, seq: int) -> bytes:
    payload = b"virtstick-firstboot"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    checksum = _checksum(header + payload)
    return struct.pack("!BBHHH", 8, 0, checksum, ident, seq) + payload


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


if __name__ == "__main__":
    sys.exit(0 if answers(sys.argv[1], float(sys.argv[2])) else 1)
