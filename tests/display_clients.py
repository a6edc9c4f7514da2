"""Direct clients of a VM's displays, as remote-viewer is: the VNC (RFB 3.8) and SPICE
handshakes up to the server's verdict on a password, for tests that check who gets in."""

from __future__ import annotations

import socket
import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, modes

SPICE_MAIN_CHANNEL = 1
SPICE_PUBKEY_BYTES = 162  # an RSA-1024 SubjectPublicKeyInfo, DER


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"the display closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def vnc_login(address: str, port: int, password: str) -> bool:
    """VNC authentication: DES of the server's challenge keyed by the password, each key
    byte's bits reversed (single DES is TripleDES with one 8-byte key thrice); once in, the
    ClientInit, after which QEMU reports the client as logged in."""
    with socket.create_connection((address, port), timeout=10) as sock:
        assert _recv(sock, 12).startswith(b"RFB 003.")
        sock.sendall(b"RFB 003.008\n")
        types = _recv(sock, _recv(sock, 1)[0])
        assert 2 in types, f"the display offers no VNC authentication: {types!r}"
        sock.sendall(bytes([2]))
        key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode().ljust(8, b"\0")[:8])
        encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
        sock.sendall(encryptor.update(_recv(sock, 16)) + encryptor.finalize())
        if int.from_bytes(_recv(sock, 4), "big") != 0:
            return False
        sock.sendall(b"\x01")  # share the display
        assert len(_recv(sock, 24)) == 24  # ServerInit: the display is ours
        return True


def spice_login(address: str, port: int, password: str) -> bool:
    """SPICE's ticket authentication on the main channel (no capabilities, so the legacy
    mechanism): the server sends its RSA key, the client the password encrypted with it
    (OAEP, SHA-1, the C string's NUL included); the server answers 0 for in."""
    with socket.create_connection((address, port), timeout=10) as sock:
        message = struct.pack("<IBBIII", 0, SPICE_MAIN_CHANNEL, 0, 0, 0, 18)
        sock.sendall(struct.pack("<4sIII", b"REDQ", 2, 2, len(message)) + message)
        magic, _major, _minor, size = struct.unpack("<4sIII", _recv(sock, 16))
        assert magic == b"REDQ"
        reply = _recv(sock, size)
        assert struct.unpack_from("<I", reply)[0] == 0, "the server refused the link"
        key = serialization.load_der_public_key(reply[4:4 + SPICE_PUBKEY_BYTES])
        assert isinstance(key, rsa.RSAPublicKey)
        sock.sendall(key.encrypt(password.encode() + b"\0", padding.OAEP(
            mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)))
        status: int = struct.unpack("<I", _recv(sock, 4))[0]
        return status == 0
