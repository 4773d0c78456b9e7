"""Configuration variables (Table 7): typed values, parsed and printed as the module does.

Values live typed in RAM (int, str, bytes for HEX[n]); AT+S.WCFG saves them to flash as
printed text, AT+S.FCFG brings back the factory values.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from atwifi.errors import AtError
from atwifi.services.flash import CorruptBlob, Flash
from atwifi.spwf04.table.config_vars import CONFIG_BY_NAME, CONFIG_VARS
from atwifi.spwf04.table.schema import ConfigVar, VarType

_HEX_OCTETS = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*")
_HEX_PLAIN = re.compile(r"(?:[0-9A-Fa-f]{2})+")
_INT = re.compile(r"[+-]?[0-9]+")
_HEXNUM = re.compile(r"(?:0[xX])?[0-9A-Fa-f]+")
_IPV6_LOOSE = re.compile(r"[0-9A-Fa-f:]+")

FLASH_NAME = "config"


def _hex_width(var: ConfigVar) -> int:
    """Digits printed for a HEX variable: as many as its factory value shows (0x21, 0x003FFFCF)."""
    d = var.default
    return max(len(d) - 2, 2) if d.lower().startswith("0x") else 8


def parse_value(var: ConfigVar, text: str) -> Any:
    """Text as the host writes it -> typed value. Raises AtError(8) / AtError(32)."""
    t = var.type
    if t is VarType.INT:
        if _INT.fullmatch(text):
            value = int(text)
        elif text.lower().startswith("0x") and _HEXNUM.fullmatch(text):
            value = int(text, 16)
        else:
            raise AtError(8, f"{var.name}: not a number")
        _check_range(var, value)
        return value
    if t is VarType.HEX:
        if not _HEXNUM.fullmatch(text):
            raise AtError(8, f"{var.name}: not hex")
        value = int(text, 16)
        if value > 0xFFFFFFFF:
            raise AtError(8, f"{var.name}: more than 32 bits")
        _check_range(var, value)
        return value
    if t is VarType.HEXN:
        if _HEX_OCTETS.fullmatch(text):
            octets = bytes(int(x, 16) for x in text.split(":"))
        elif _HEX_PLAIN.fullmatch(text):
            octets = bytes.fromhex(text)
        else:
            raise AtError(8, f"{var.name}: not hex octets")
        if var.size is not None and len(octets) > var.size:
            raise AtError(32, f"{var.name}: more than {var.size} octets")
        return octets
    if t is VarType.LIST and not all(_INT.fullmatch(x) for x in text.split()):
        # The manual types these INT: a list of numbers (ports, TTLs), one per mDNS service.
        raise AtError(8, f"{var.name}: numbers separated by spaces")
    if t is VarType.TEXT or t is VarType.LIST:
        if var.size is not None and len(text.encode("latin-1", "replace")) > var.size:
            raise AtError(32, f"{var.name}: longer than {var.size}")
        return text
    if t is VarType.IP:
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            raise AtError(8, f"{var.name}: not an IPv4 address") from None
    if t is VarType.IPV6:
        # The manual itself prints the unspecified address as 0:0:0:0:0:0:0: keep the text.
        if not _IPV6_LOOSE.fullmatch(text) or text.count(":") > 7:
            raise AtError(8, f"{var.name}: not an IPv6 address")
        return text
    raise AssertionError(t)


def _check_range(var: ConfigVar, value: int) -> None:
    if (var.min is not None and value < var.min) or (var.max is not None and value > var.max):
        raise AtError(8, f"{var.name}={value} out of range")


def format_value(var: ConfigVar, value: Any) -> str:
    t = var.type
    if t is VarType.HEX:
        return f"0x{value:0{_hex_width(var)}X}"
    if t is VarType.HEXN:
        return ":".join(f"{b:02X}" for b in value)
    return str(value)


_FACTORY: dict[str, Any] = {}
_FACTORY_TEXT: dict[str, str] = {}


def _factory() -> dict[str, Any]:
    """A fresh copy of the factory values. Parsed once per process and copied: the values are
    immutable (int, str, bytes), so every module of a fleet shares the same objects."""
    if not _FACTORY:
        for v in CONFIG_VARS:
            _FACTORY[v.name] = parse_value(v, v.default)
            _FACTORY_TEXT[v.name] = format_value(v, _FACTORY[v.name])
    return dict(_FACTORY)


class Config:
    """The running configuration and its saved copy in flash."""

    def __init__(self, flash: Flash) -> None:
        self._flash = flash
        # This module's own factory values where they differ from every module's (a fleet
        # module's MAC address): what load() and FCFG start from.
        self._own: dict[str, Any] = {}
        self._values: dict[str, Any] = _factory()

    def set_factory(self, name: str, text: str) -> None:
        """Make ``text`` this module's factory value of ``name`` (and its value now, unless a
        saved configuration says otherwise at the next load)."""
        var = _var(name)
        value = parse_value(var, text)
        self._own[var.name] = value
        self._values[var.name] = value

    def _fresh(self) -> dict[str, Any]:
        values = _factory()
        if self._own:
            values.update(self._own)
        return values

    # -- typed access for code ---------------------------------------------------------
    def get(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AtError(4, f"no variable {name!r}") from None

    def set_value(self, name: str, value: Any) -> None:
        var = _var(name)
        self._values[name] = parse_value(var, format_value(var, value))

    # -- text access, as the console sees it ---------------------------------------------
    def text(self, name: str) -> str:
        var = _var(name)
        return format_value(var, self._values[var.name])

    def set(self, name: str, text: str) -> None:
        var = _var(name)
        self._values[var.name] = parse_value(var, text)

    def items(self) -> list[tuple[str, str]]:
        return [(v.name, format_value(v, self._values[v.name])) for v in CONFIG_VARS]

    # -- flash ----------------------------------------------------------------------------
    def load(self) -> bool:
        """Load the saved configuration. Returns False when the flash copy was corrupt (the
        factory values are then in force and the flash is rewritten with them)."""
        self._values = self._fresh()
        try:
            blob = self._flash.read(FLASH_NAME)
        except CorruptBlob:
            self._flash.erase(FLASH_NAME)
            return False
        if blob is None:
            return True
        try:
            saved = json.loads(blob)
        except ValueError:
            saved = None
        if not isinstance(saved, dict):
            # A blob with a good checksum but not our shape (another tool, another version)
            # is as unusable as a corrupt one; it must not stop the module from booting.
            self._flash.erase(FLASH_NAME)
            return False
        for name, text in saved.items():
            var = CONFIG_BY_NAME.get(name)
            if var is None or not isinstance(text, str):
                continue  # a variable an older atwifi knew; not ours any more
            if _FACTORY_TEXT.get(name) == text and name not in self._own:
                continue  # the factory value, already in place (and shared)
            try:
                self._values[name] = parse_value(var, text)
            except AtError:
                continue
        return True

    def save(self) -> None:
        self._flash.write(FLASH_NAME, json.dumps(dict(self.items())).encode())

    def factory(self) -> None:
        self._values = self._fresh()
        self._flash.erase(FLASH_NAME)


def _var(name: str) -> ConfigVar:
    """Variable names are matched without regard to case, like command names."""
    var = CONFIG_BY_NAME.get(name) or CONFIG_BY_NAME.get(name.lower())
    if var is None:
        raise AtError(4, f"no variable {name!r}")
    return var
