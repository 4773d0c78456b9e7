"""Table 1 of the manual (ids, groups, summaries) with the parameters of each section 6.x.

Parameter names are the manual's, in snake_case. Ranges are set only where the manual states
them and no dedicated error exists: ids of sockets, servers, clients, GPIOs and volumes, the
GPIO direction and the DAC/PWM values are left to the handlers because the manual has specific
errors for them (76, 20, 19, 26, 27, 28, 59), and bad input gets the manual's error.
Choices made where the manual is unclear: docs/behaviour.md.
"""

from __future__ import annotations

from typing import Any

from atwifi.spwf04.table.schema import Command, P, Param

UTILS = "Utils: commands for debugging and retrieving module status"
MANAGEMENT = "Management: commands for module management and configuration"
PERIPHERALS = "STM32 peripherals: commands to manage the peripherals and related values"
FILES = "File system management"
SECURITY = "Security: commands to interact with the security features"
RADIO = "Radio: commands to manage main Wi-Fi operations"
SOCKETS = "Sockets: commands to manage socket read and write"
WEB_SOCKETS = "Web sockets"
TFTP = "Trivial FTP"
SMTP = "SMTP"
HTTP = "HTTP"
MQTT = "MQTT"

HOST_MAX = 64  # host names: the manual gives no limit, 64 matches the TLS name and file limits
PORT_MAX = 65535


# Small builders: the table below reads closer to the manual with them.
# The most {data} each command can use (docs/behaviour.md "Data lengths"): a larger length is
# refused at once with error 32 and nothing after the line is read as its data.
TOO_BIG = 32  # "Argument exceeds allowed size"
DATA_FSWRITE = 2 * 1024 * 1024 + 64 * 1024  # the largest volume image (2 MiB) and its index
DATA_FILE = 2 * 1024 * 1024  # a file of the largest volume
DATA_CERT = 16 * 1024  # a PEM certificate chain or key
DATA_SOCKET = 65535  # one socket or WebSocket write (an IP datagram's most)
DATA_MESSAGE = 65535  # an MQTT publication or a mail body
DATA_INPUTSSI = 4096  # the web server's input buffer

def _int(name: str, help: str = "", **kw: Any) -> Param:
    return Param(name, P.INT, help=help, **kw)


def _opt_int(name: str, default: int | None, help: str = "", **kw: Any) -> Param:
    return Param(name, P.INT, required=False, default=default, help=help, **kw)


def _text(name: str, help: str = "", **kw: Any) -> Param:
    return Param(name, P.TEXT, help=help, **kw)


def _opt_text(name: str, default: str | None = None, help: str = "", **kw: Any) -> Param:
    return Param(name, P.TEXT, required=False, default=default, help=help, **kw)


def _host(name: str = "hostname", help: str = "DNS resolvable name or IP address") -> Param:
    return Param(name, P.HOST, max_len=HOST_MAX, help=help)


def _file(name: str, help: str = "", **kw: Any) -> Param:
    return Param(name, P.FILE, help=help, **kw)


def _opt_file(name: str, help: str = "", **kw: Any) -> Param:
    return Param(name, P.FILE, required=False, default=None, help=help, **kw)


def _null(name: str) -> Param:
    return Param(name, P.NULL, required=False, default=None, help="<NULL> placeholder")


def _port(default: int | None, help: str) -> Param:
    return _opt_int("port", default, help, min=0, max=PORT_MAX)


def _tls() -> Param:
    return _opt_int("tls", 0, "0 unsecured, 1 autodetect, 2 TLS", min=0, max=2)


_DEPENDS_PORT = "default None: 80 if tls=0, 443 if tls>0 (the handler picks)"


def _client_params(path_default: str) -> tuple[Param, ...]:
    """hostname,[path&queryopts],[port],[TLS],[username],[passwd]: FSUPDATE, FWUPDATE, HTTP."""
    return (
        _host(),
        _opt_text("path", path_default, "document path and optional query arguments"),
        _port(None, _DEPENDS_PORT),
        _tls(),
        _opt_text("username"),
        _opt_text("passwd"),
    )


def _id(help: str = "socket client id (range checked by the handler: error 76)") -> Param:
    return _int("id", help)


def _sid() -> Param:
    return _int("sid", "socket server id (range checked by the handler: error 76)")


def _cid() -> Param:
    return _int("cid", "socket client id (range checked by the handler: error 76)")


def _qos(name: str = "qos") -> Param:
    return _opt_int(name, 0, "0 at most once, 1 at least once, 2 exactly once", min=0, max=2)


def _mqtt_id() -> Param:
    return _int("id", "MQTT connection id, always 0 (checked by the handler)")


_CERT_KIND = "content (then size is the option: 1 list, 2 remove) or the kind of {data}"

COMMANDS: tuple[Command, ...] = (
    # --- Utils ---
    Command("", 0x01, UTILS, "Null command", section="6.1"),
    Command(
        "HELP",
        0x02,
        UTILS,
        "Help command",
        (_opt_text("keyword", help="list only commands containing it"),),
        section="6.2",
    ),
    Command(
        "STS",
        0x05,
        UTILS,
        "Status configuration",
        (_opt_text("variable", help="a status variable of Table 8; all when absent"),),
        section="6.3",
    ),
    Command(
        "PEERS",
        0x35,
        UTILS,
        "Peers configuration",
        (
            _opt_int("peer_number", None, "0 = the AP we are joined to, 1..5 = MiniAP clients"),
            _opt_text("peer_var", help="a peer variable of Table 9"),
        ),
        section="6.4",
    ),
    # --- Management ---
    Command("RESET", 0x03, MANAGEMENT, "SW reset", section="6.5"),
    Command(
        "PMS",
        0x04,
        MANAGEMENT,
        "Set power mode",
        (_opt_int("mode", 0, "0 active, 1 powersave, 2 stop, 3 standby", min=0, max=3),),
        section="6.6",
    ),
    Command(
        "PYTHON",
        0x08,
        MANAGEMENT,
        "Enter MicroPython execution",
        (_opt_file("filename", "script to run; the REPL when absent"),),
        section="6.7",
    ),
    Command(
        "GCFG",
        0x09,
        MANAGEMENT,
        "Read Configuration status",
        (_opt_text("cfg_var", help="a configuration variable of Table 7; all when absent"),),
        section="6.8",
    ),
    Command(
        "SCFG",
        0x0A,
        MANAGEMENT,
        "Set configuration variables",
        (
            _text("key", "variable to configure"),
            # The rest of the line: passphrases and mdns lists may hold the delimiter or spaces.
            # Optional so that a driver's `(null)` (C's NULL) sets an empty text instead of
            # failing; the handler answers error 2 when a non-text variable gets no value.
            _opt_text("value", None, "value to be set", rest=True),
        ),
        section="6.9",
    ),
    Command("WCFG", 0x0B, MANAGEMENT, "Save configuration to Flash", section="6.10"),
    Command("FCFG", 0x0C, MANAGEMENT, "Restore factory configuration", section="6.11"),
    Command(
        "FSWRITE",
        0x57,
        MANAGEMENT,
        "FS update via serial UART/SPI",
        (_int("length", "data length to send (in bytes)", min=0, max=DATA_FSWRITE, over=TOO_BIG),),
        data="length",
        section="6.12",
    ),
    Command(
        "FSUPDATE",
        0x58,
        MANAGEMENT,
        "FS download",
        (
            Param(
                "mem",
                P.CHOICE,
                choices=("e", "i", "x"),
                help="e user Flash, i application Flash, x external volume",
            ),
            *_client_params("/fs.img"),
        ),
        section="6.13",
    ),
    Command(
        "FWUPDATE",
        0x56,
        MANAGEMENT,
        "FW download",
        (
            Param("mem", P.CHOICE, choices=("e",), help="always e (the manual's literal)"),
            *_client_params("/fw.fota"),
        ),
        section="6.14",
    ),
    # --- STM32 peripherals ---
    Command(
        "GPIOC",
        0x13,
        PERIPHERALS,
        "Configure GPIO",
        (
            _int("number", "GPIO number (0-15; the handler answers error 20)"),
            # TEXT, not CHOICE: the manual has its own error for this (19), not error 7.
            _text("direction", "in or out, any case; anything else: error 19 (handler)"),
            Param(
                "interrupt",
                P.CHOICE,
                required=False,
                choices=("R", "F", "B"),
                help="inputs only: R rising, F falling, B both; default none (off)",
            ),
        ),
        section="6.15",
    ),
    Command(
        "GPIOR",
        0x14,
        PERIPHERALS,
        "Read GPIO",
        (_int("num", "the GPIO to read (handler: error 20)"),),
        section="6.16",
    ),
    Command(
        "GPIOW",
        0x15,
        PERIPHERALS,
        "Write GPIO",
        (
            _int("num", "the GPIO to set (handler: error 20)"),
            _int("level", "0 or 1", min=0, max=1),
        ),
        section="6.17",
    ),
    Command(
        "DAC",
        0x16,
        PERIPHERALS,
        "Disable/Enable DAC",
        (_int("value", "mV 1..3300 on GPIO15, 0 disables; else error 26 (handler)"),),
        section="6.18",
    ),
    Command(
        "ADC",
        0x17,
        PERIPHERALS,
        "Read ADC value",
        (_int("num", "GPIO 0, 1 or 16 (checked by the handler)"),),
        section="6.19",
    ),
    Command(
        "PWM",
        0x18,
        PERIPHERALS,
        "Set PWM",
        (
            _int("num", "GPIO 2 or 4 (checked by the handler)"),
            _int("frequency", "Hz 1..10000, 0 disables; else error 27 (handler)"),
            _opt_int("duty_cycle", 50, "percent 0..100; else error 28 (handler)"),
        ),
        section="6.20",
    ),
    Command(
        "TIME",
        0x11,
        PERIPHERALS,
        "Get/Set time",
        (_opt_int("time", None, "seconds since 1970-01-01 UTC; prints the time when absent"),),
        section="6.21",
    ),
    Command("RANDOM", 0x12, PERIPHERALS, "Provide random number", section="6.22"),
    # --- File system ---
    Command(
        "FSM",
        0x21,
        FILES,
        "Mount volume",
        (_opt_int("volume", 0, "memory volume (handler: error 59)"),),
        section="6.28",
    ),
    Command(
        "FSU",
        0x22,
        FILES,
        "Umount/Erase volume",
        (
            _opt_int("volume", 0, "memory volume (handler: error 59)"),
            _opt_int("erase", 0, "1 erases the volume", min=0, max=1),
        ),
        section="6.29",
    ),
    Command(
        "FSC",
        0x23,
        FILES,
        "Create file, append data",
        (
            _file("filename", "name of the file, max 64 bytes", max_len=64),
            _int("datalen", "bytes of {data} to append", min=0, max=DATA_FILE, over=TOO_BIG),
        ),
        data="datalen",
        section="6.23",
    ),
    Command("FSD", 0x25, FILES, "Delete file", (_file("filename"),), section="6.24"),
    Command(
        "FSR",
        0x26,
        FILES,
        "Rename file",
        (_file("old_filename"), _file("new_filename")),
        section="6.25",
    ),
    Command(
        "FSL",
        0x27,
        FILES,
        "List existing files",
        (_opt_file("output_filename", "save the list there; console when absent"),),
        section="6.26",
    ),
    Command(
        "FSP",
        0x28,
        FILES,
        "Print file content",
        (
            _file("filename"),
            _opt_int("offset", 0, "first byte printed", min=0),
            _opt_int("len", None, "default None: file size - offset", min=0),
        ),
        section="6.27",
    ),
    Command(
        "HASH",
        0x29,
        FILES,
        "Compute digest",
        (
            _opt_int("function", 0, "0 SHA1, 1 SHA224, 2 SHA256, 3 MD5", min=0, max=3),
            _file("filename"),
        ),
        section="6.30",
    ),
    # --- Security ---
    Command(
        "WPAECERT",
        0x2A,
        SECURITY,
        "Manage WPA-Enterprise certificates",
        (
            _text("kind", _CERT_KIND + ": Ca, Cert, Key"),
            _int("size", "bytes of {data} (PEM or DER), or the content option", min=0, max=DATA_CERT, over=TOO_BIG),
        ),
        data="size",
        data_unless_first="content",
        section="6.31",
    ),
    Command(
        "TLSCERT",
        0x2B,
        SECURITY,
        "Manage TLS certificates",
        (
            _text("kind", _CERT_KIND + ": Ca, Cert, Key, Auth"),
            _int("size", "bytes of {data} (PEM or DER), or the content option", min=0, max=DATA_CERT, over=TOO_BIG),
        ),
        data="size",
        data_unless_first="content",
        section="6.32",
    ),
    Command(
        "WPS",
        0x36,
        SECURITY,
        "Initiate a WPS Exchange",
        (_int("mode", "0 push button, 1 factory PIN, 2 random PIN", min=0, max=2),),
        section="6.33",
    ),
    # --- Radio ---
    Command(
        "WIFI",
        0x32,
        RADIO,
        "Set Wi-Fi radio",
        (_int("action", "0 radio off, 1 radio on", min=0, max=1),),
        section="6.34",
    ),
    Command(
        "SCAN",
        0x33,
        RADIO,
        "Network scan",
        (
            # Optional: the mbed driver sends a bare AT+S.SCAN, meaning no filter.
            Param(
                "filter",
                P.CHOICE,
                required=False,
                default="d",
                choices=("d", "s", "m"),
                help="d no filter (default), s filter on ssid, m filter on the mac",
            ),
            _opt_file("filename", "save the output there; console when absent"),
        ),
        section="6.35",
    ),
    Command(
        "SSIDTXT",
        0x34,
        RADIO,
        "Get/Set ASCII SSID",
        (_opt_text("ssidtxt", help="SSID as text; prints it when absent", rest=True, max_len=32),),
        section="6.36",
    ),
    Command(
        "PING",
        0x39,
        RADIO,
        "Ping a specified host",
        (
            _opt_int("counter", 1, "number of echo requests", min=0),
            _opt_int("size", 56, "echo packet size in bytes", min=0),
            _host(),
        ),
        section="6.37",
    ),
    # --- Sockets ---
    Command(
        "SOCKON",
        0x41,
        SOCKETS,
        "Open a socket client",
        (
            _host(help="remote server: DNS resolvable name or IP address"),
            _int("port", "TCP/UDP port", min=0, max=PORT_MAX),
            _null("null"),
            _text(
                "kind",
                "t tcp, u udp, s TLS checked against hostname, or the TLS server name",
                max_len=HOST_MAX,
            ),
        ),
        section="6.38",
    ),
    Command(
        "SOCKQ", 0x42, SOCKETS, "Query a socket client for pending data", (_id(),), section="6.39"
    ),
    Command("SOCKC", 0x43, SOCKETS, "Close a socket client", (_id(),), section="6.40"),
    Command(
        "SOCKW",
        0x44,
        SOCKETS,
        "Write data to a socket server",
        (_id(), _int("length", "bytes of {data}", min=0, max=DATA_SOCKET, over=TOO_BIG)),
        data="length",
        section="6.41",
    ),
    Command(
        "SOCKR",
        0x45,
        SOCKETS,
        "Read data from a socket client",
        (_id(), _opt_int("length", 0, "bytes to read, 0 = all pending", min=0)),
        section="6.42",
    ),
    Command("SOCKL", 0x46, SOCKETS, "List opened socket clients", section="6.43"),
    Command(
        "SOCKDON",
        0x47,
        SOCKETS,
        "Open a socket server",
        (
            _int("port", "socket port", min=0, max=PORT_MAX),
            Param(
                "kind",
                P.CHOICE,
                choices=("t", "u", "s1", "s2"),
                help="t tcp, u udp, s1 TLS one-way, s2 TLS mutual authentication",
            ),
        ),
        section="6.44",
    ),
    Command(
        "SOCKDQ",
        0x48,
        SOCKETS,
        "Query socket server for pending data",
        (_sid(), _cid()),
        section="6.45",
    ),
    Command(
        "SOCKDC",
        0x49,
        SOCKETS,
        "Close a socket server",
        (
            _sid(),
            _opt_int("cid", None, "client to disconnect; absent: all clients and the server"),
        ),
        section="6.46",
    ),
    Command(
        "SOCKDW",
        0x4A,
        SOCKETS,
        "Write data to a socket server",
        (_sid(), _cid(), _int("len", "bytes of {data}", min=0, max=DATA_SOCKET, over=TOO_BIG)),
        data="len",
        section="6.47",
    ),
    Command(
        "SOCKDR",
        0x4B,
        SOCKETS,
        "Read data from a socket server",
        (_sid(), _cid(), _opt_int("len", 0, "bytes to read, 0 = all pending", min=0)),
        section="6.48",
    ),
    Command(
        "SOCKDL",
        0x4C,
        SOCKETS,
        "List bound socket clients",
        (_opt_int("sid", None, "server id; all servers when absent"),),
        section="6.49",
    ),
    # --- Web sockets ---
    Command(
        "WSOCKON",
        0x61,
        WEB_SOCKETS,
        "Open a web socket client",
        (
            _host(help="web socket server: DNS resolvable name or IP address"),
            _port(None, _DEPENDS_PORT),
            _opt_text(
                "path",
                None,
                "absent: MQTT on TCP; given: MQTT over WebSocket at this path (the manual's"
                " default / is the WebSocket path)",
            ),
            _tls(),
            _opt_text("username"),
            _opt_text("passwd"),
            _opt_text("origin", help="header field Origin"),
            _opt_text("protocols", help="header field Protocols"),
            _opt_text("extensions", help="header field Extensions"),
        ),
        section="6.61",
    ),
    Command(
        "WSOCKQ",
        0x62,
        WEB_SOCKETS,
        "Query a web socket client for pending data",
        (_id("web socket client id (handler: error 76)"),),
        section="6.62",
    ),
    Command(
        "WSOCKC",
        0x63,
        WEB_SOCKETS,
        "Close web socket client",
        (
            _id("web socket client id (handler: error 76)"),
            _opt_int("status", 0, "0 normal closure, 1 going away, ... (RFC 6455)", min=0),
        ),
        section="6.63",
    ),
    Command(
        "WSOCKW",
        0x64,
        WEB_SOCKETS,
        "Write data to a web socket client",
        (
            _id("web socket client id (handler: error 76)"),
            _opt_int("last_frame", 0, "1 last frame", min=0, max=1),
            _opt_int("last_frag", 0, "1 last fragment", min=0, max=1),
            _opt_int("binary", 0, "0 text, 1 binary", min=0, max=1),
            _int("len", "bytes of {data}", min=0, max=DATA_SOCKET, over=TOO_BIG),
        ),
        data="len",
        section="6.64",
    ),
    Command(
        "WSOCKR",
        0x65,
        WEB_SOCKETS,
        "Read data from web socket client",
        (
            _id("web socket client id (handler: error 76)"),
            _opt_int("len", 0, "bytes to read, 0 = all pending", min=0),
        ),
        section="6.65",
    ),
    Command("WSOCKL", 0x66, WEB_SOCKETS, "List open web socket client", section="6.66"),
    # --- Trivial FTP ---
    Command(
        "TFTPGET",
        0x51,
        TFTP,
        "Get request to a TFTP server",
        (
            _host(help="TFTP server: DNS resolvable name or IP address"),
            _port(69, "UDP port"),
            _text("filename", "remote file, complete path"),
            _opt_file("local_filename", "default None: 2:<filename> (the handler builds it)"),
        ),
        section="6.50",
    ),
    Command(
        "TFTPPUT",
        0x52,
        TFTP,
        "Put request to a TFTP server",
        (
            _host(help="TFTP server: DNS resolvable name or IP address"),
            _port(69, "UDP port"),
            _file("local_filename", "file to send"),
        ),
        section="6.51",
    ),
    # --- SMTP ---
    Command(
        "SMTP",
        0x53,
        SMTP,
        "Send an email",
        (
            _host(help="SMTP server: DNS resolvable name or IP address"),
            _port(None, "default None: 25 if tls=0, 465 if tls>0 (the handler picks)"),
            _opt_int("tls", 0, "0 unsecured, 5, 8 or 9 (see 6.52; handler checks)", min=0),
            _opt_text("username"),
            _opt_text("passwd"),
            _opt_text("id", help="name used in HELO; default None: nv_model"),
            _text("address", "sender address on the SMTP server"),
            _text("to", "recipients separated by ';'"),
            _null("null_1"),
            _null("null_2"),
            _text("subject"),
            _null("null_3"),
            _int("len", "bytes of the body ({data})", min=0, max=DATA_MESSAGE, over=TOO_BIG),
        ),
        data="len",
        section="6.52",
    ),
    # --- HTTP ---
    Command(
        "HTTPGET",
        0x54,
        HTTP,
        "Get a request to an HTTP server",
        (
            *_client_params("/index.html"),
            _opt_file("in_filename", "custom HTTP request"),
            _opt_file("out_filename", "save the reply there; console when absent"),
        ),
        section="6.53",
    ),
    Command(
        "HTTPPOST",
        0x55,
        HTTP,
        "Post request to an HTTP server",
        (
            *_client_params("/index.html"),
            # As printed in 6.54: "in" is what comes in (the reply), "out" what goes out.
            _opt_file("in_filename", "save the reply there; console when absent"),
            _opt_file("out_filename", "file to post; Content-Type from its extension"),
        ),
        section="6.54",
    ),
    Command(
        "INPUTSSI",
        0x59,
        HTTP,
        "Fill buffer for raw text input SSI",
        (_int("length", "bytes of {data}; 0 clears the buffer", min=0, max=DATA_INPUTSSI, over=TOO_BIG),),
        data="length",
        section="6.55",
    ),
    # --- MQTT ---
    Command(
        "MQTTCONN",
        0x5A,
        MQTT,
        "MQTT connect",
        (
            _host(help="MQTT broker: DNS resolvable name or IP address"),
            _port(1883, "broker port"),
            _opt_text(
                "path",
                None,
                "absent: MQTT on TCP; given: MQTT over WebSocket at this path (the manual's"
                " default / is the WebSocket path)",
            ),
            _tls(),
            _opt_text("username"),
            _opt_text("passwd"),
            _opt_text("user_id", help="client id; default None: nv_model"),
            _opt_int("keep_alive", 60, "seconds", min=0),
            _opt_int("retry", 15, "seconds", min=0),
            _qos("last_will_qos"),
            _opt_text("last_will_topic"),
            _opt_text("last_will_message"),
        ),
        section="6.56",
    ),
    Command(
        "MQTTSUB",
        0x5B,
        MQTT,
        "MQTT subscribe",
        (_mqtt_id(), _text("topic"), _qos()),
        section="6.59",
    ),
    Command(
        "MQTTPUB",
        0x5C,
        MQTT,
        "MQTT publish",
        (
            _mqtt_id(),
            _text("topic"),
            _qos(),
            _opt_int("retained_flag", 0, "0 do not retain, 1 retain", min=0, max=1),
            _int("len", "bytes of the message ({data})", min=0, max=DATA_MESSAGE, over=TOO_BIG),
        ),
        data="len",
        section="6.57",
    ),
    Command(
        "MQTTUNSUB",
        0x5D,
        MQTT,
        "MQTT unsubscribe",
        (_mqtt_id(), _text("topic")),
        section="6.60",
    ),
    Command(
        "MQTTDISC",
        0x5E,
        MQTT,
        "MQTT disconnect",
        # 6.58 writes AT+S.MQTTDISC=0 but lists no parameter: accept it absent too.
        (_opt_int("id", 0, "MQTT connection id, always 0 (checked by the handler)"),),
        section="6.58",
    ),
)

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
BY_ID: dict[int, Command] = {c.id: c for c in COMMANDS}
