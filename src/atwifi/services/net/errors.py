"""How the IP services fail (services/errors.py); the dialect words the kinds."""

from __future__ import annotations

from enum import Enum


class NetFault(Enum):
    UNRESOLVED = "unresolved"  # a name no source (literal, [hosts], hosts file, DNS) knows
    NTP = "ntp"  # no usable time from an NTP server
