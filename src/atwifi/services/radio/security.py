"""The few real computations of Wi-Fi security the simulation does: WPA PSKs and WPS PINs."""

from __future__ import annotations

import hashlib
from functools import lru_cache


@lru_cache(maxsize=64)
def wpa_psk(passphrase: str, ssid: bytes) -> bytes:
    """The WPA/WPA2 pre-shared key: PBKDF2-HMAC-SHA1(passphrase, SSID, 4096 rounds, 32 bytes),
    as IEEE 802.11i defines it. Cached: a few ms of CPU each, and joins retry."""
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode("latin-1"), ssid, 4096, 32)


def wps_checksum(pin7: int) -> int:
    """The eighth digit of a WPS PIN (the Wi-Fi Simple Configuration checksum)."""
    accum = 0
    while pin7:
        accum += 3 * (pin7 % 10)
        pin7 //= 10
        accum += pin7 % 10
        pin7 //= 10
    return (10 - accum % 10) % 10


def wps_pin8(pin7: int) -> str:
    """7 digits -> the 8-digit PIN with its checksum, as the module prints it."""
    return f"{pin7:07d}{wps_checksum(pin7)}"


def wps_pin_valid(pin8: str) -> bool:
    return len(pin8) == 8 and pin8.isdigit() and wps_checksum(int(pin8[:7])) == int(pin8[7])
