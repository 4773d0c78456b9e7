"""Shapes of the dialect tables. Everything else (parsing, checks, HELP, SPI ids) derives from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class P(Enum):
    """Kinds of command parameter; each maps to a Python type handed to the handler."""

    INT = "int"  # decimal integer -> int
    TEXT = "text"  # free text -> str
    CHOICE = "choice"  # one of Param.choices (case-insensitive) -> str, as written in choices
    FILE = "file"  # a file name, optionally "<vol>:/name" -> str
    HOST = "host"  # DNS name or IP literal -> str
    NULL = "null"  # placeholder the manual writes as <NULL>: empty, NULL or (null) -> None


@dataclass(frozen=True)
class Param:
    name: str
    kind: P
    required: bool = True
    default: object = None  # value handed to the handler when the parameter is empty or absent
    max_len: int | None = None  # TEXT/FILE/HOST: longer -> error 32
    min: int | None = None  # INT: below -> error 8
    max: int | None = None  # INT: above -> error ``over``
    over: int = 8  # the error above ``max`` (32 for {data} lengths: nothing is read then)
    choices: tuple[str, ...] = ()  # CHOICE: anything else -> error 7
    nonzero: bool = False  # INT: 0 -> error 33
    rest: bool = False  # takes the remainder of the line, delimiters included (last param only)
    help: str = ""


@dataclass(frozen=True)
class Command:
    name: str  # without the "AT+S." prefix, upper case: "SOCKW"; the bare "AT" is ""
    id: int  # Table 1 command id (SPI)
    group: str  # Table 1 group heading
    summary: str  # Table 1 description, printed by AT+S.HELP
    params: tuple[Param, ...] = ()
    # Name of the INT parameter that announces the length of a raw {data} block, or None.
    data: str | None = None
    # For commands with {data} only in some forms (TLSCERT, WPAECERT): the data block is read
    # unless the first parameter equals this value (case-insensitive).
    data_unless_first: str | None = None
    section: str = ""  # manual section, e.g. "6.41"

    @property
    def at(self) -> str:
        return f"AT+S.{self.name}" if self.name else "AT"


class VarType(Enum):
    INT = "INT"
    HEX = "HEX"  # an integer printed as 0x%08X
    HEXN = "HEX[n]"  # n octets printed as upper-case hex with colons
    TEXT = "TEXT"  # TEXT[n]: at most n bytes
    IP = "IP"
    IPV6 = "IPv6"
    LIST = "LIST"  # space-separated list the manual types INT (ip_mdns_services_port/ttl)


@dataclass(frozen=True)
class ConfigVar:
    name: str
    default: str  # factory value exactly as the manual prints it
    type: VarType
    size: int | None = None  # n of TEXT[n] / HEX[n]
    description: str = ""
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class StatusVar:
    name: str
    example: str  # the manual's example value
    note: str = ""


@dataclass(frozen=True)
class PeerVar:
    name: str
    example: str
    note: str = ""


@dataclass(frozen=True)
class ErrorDef:
    number: int
    text: str  # without quotes; "Reserved" rows are left out of the tables


@dataclass(frozen=True)
class WindDef:
    number: int
    text: str  # the descriptive string, e.g. "Pending Data"
    fields: str = ""  # the manual's printf shape of the variables, e.g. "%u:%u:%u:%u"
    description: str = ""


@dataclass(frozen=True)
class Tables:
    commands: tuple[Command, ...]
    config: tuple[ConfigVar, ...]
    status: tuple[StatusVar, ...]
    peers: tuple[PeerVar, ...]
    errors: dict[int, str] = field(default_factory=dict)
