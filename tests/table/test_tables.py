"""The dialect tables against an independent re-reading of the manual's tables."""

from __future__ import annotations

import ipaddress
import keyword
import re

import pytest

from atwifi.spwf04.table.commands import BY_ID, BY_NAME, COMMANDS
from atwifi.spwf04.table.config_vars import CONFIG_BY_NAME, CONFIG_VARS
from atwifi.spwf04.table.errors import CERT_ERRORS, ERRORS, HTTP_ERRORS, WEBSOCKET_ERRORS
from atwifi.spwf04.table.peer_vars import PEER_VARS
from atwifi.spwf04.table.schema import P, VarType
from atwifi.spwf04.table.status_vars import STATUS_BY_NAME, STATUS_VARS
from atwifi.spwf04.table.winds import WINDS

# Table 1, re-read from the manual row by row (name -> id), in the manual's order.
TABLE_1 = {
    "": 0x01,
    "HELP": 0x02,
    "STS": 0x05,
    "PEERS": 0x35,
    "RESET": 0x03,
    "PMS": 0x04,
    "PYTHON": 0x08,
    "GCFG": 0x09,
    "SCFG": 0x0A,
    "WCFG": 0x0B,
    "FCFG": 0x0C,
    "FSWRITE": 0x57,
    "FSUPDATE": 0x58,
    "FWUPDATE": 0x56,
    "GPIOC": 0x13,
    "GPIOR": 0x14,
    "GPIOW": 0x15,
    "DAC": 0x16,
    "ADC": 0x17,
    "PWM": 0x18,
    "TIME": 0x11,
    "RANDOM": 0x12,
    "FSM": 0x21,
    "FSU": 0x22,
    "FSC": 0x23,
    "FSD": 0x25,
    "FSR": 0x26,
    "FSL": 0x27,
    "FSP": 0x28,
    "HASH": 0x29,
    "WPAECERT": 0x2A,
    "TLSCERT": 0x2B,
    "WPS": 0x36,
    "WIFI": 0x32,
    "SCAN": 0x33,
    "SSIDTXT": 0x34,
    "PING": 0x39,
    "SOCKON": 0x41,
    "SOCKQ": 0x42,
    "SOCKC": 0x43,
    "SOCKW": 0x44,
    "SOCKR": 0x45,
    "SOCKL": 0x46,
    "SOCKDON": 0x47,
    "SOCKDQ": 0x48,
    "SOCKDC": 0x49,
    "SOCKDW": 0x4A,
    "SOCKDR": 0x4B,
    "SOCKDL": 0x4C,
    "WSOCKON": 0x61,
    "WSOCKQ": 0x62,
    "WSOCKC": 0x63,
    "WSOCKW": 0x64,
    "WSOCKR": 0x65,
    "WSOCKL": 0x66,
    "TFTPGET": 0x51,
    "TFTPPUT": 0x52,
    "SMTP": 0x53,
    "HTTPGET": 0x54,
    "HTTPPOST": 0x55,
    "INPUTSSI": 0x59,
    "MQTTCONN": 0x5A,
    "MQTTSUB": 0x5B,
    "MQTTPUB": 0x5C,
    "MQTTUNSUB": 0x5D,
    "MQTTDISC": 0x5E,
}

DATA_COMMANDS = {
    "SOCKW": "length",
    "SOCKDW": "len",
    "WSOCKW": "len",
    "FSC": "datalen",
    "FSWRITE": "length",
    "MQTTPUB": "len",
    "SMTP": "len",
    "TLSCERT": "size",
    "WPAECERT": "size",
    "INPUTSSI": "length",
}


def test_table_1_has_66_commands_in_order_with_their_ids() -> None:
    assert len(TABLE_1) == 66
    assert len(COMMANDS) == 66
    assert [(c.name, c.id) for c in COMMANDS] == list(TABLE_1.items())


def test_ids_and_names_are_unique_and_indexed() -> None:
    assert len({c.id for c in COMMANDS}) == 66
    assert len({c.name for c in COMMANDS}) == 66
    assert {c.id: c for c in COMMANDS} == BY_ID
    assert set(BY_NAME) == set(TABLE_1)
    assert all(name == name.upper() for name in BY_NAME)
    assert BY_NAME[""].at == "AT"
    assert BY_NAME["SOCKW"].at == "AT+S.SOCKW"


def test_the_manual_spi_example_id_is_not_trusted() -> None:
    # Section 4's example gives FSL 0x25; Table 1 (and drivers) say FSL 0x27, FSD 0x25.
    assert BY_NAME["FSL"].id == 0x27
    assert BY_NAME["FSD"].id == 0x25
    assert BY_ID[0x33].name == "SCAN"
    assert BY_ID[0x44].name == "SOCKW"


def test_every_command_has_group_summary_and_section() -> None:
    sections = [c.section for c in COMMANDS]
    assert sorted(sections, key=lambda s: int(s.split(".")[1])) == [f"6.{i}" for i in range(1, 67)]
    for c in COMMANDS:
        assert c.group and c.summary
    assert BY_NAME["SOCKW"].summary == "Write data to a socket server"  # as Table 1 prints it
    assert BY_NAME["SOCKON"].group == "Sockets: commands to manage socket read and write"


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.name or "AT")
def test_params_are_well_formed(cmd) -> None:
    names = [p.name for p in cmd.params]
    assert len(set(names)) == len(names)
    for i, p in enumerate(cmd.params):
        # Handed over as keyword arguments next to ctx and data.
        assert p.name.isidentifier() and not keyword.iskeyword(p.name)
        assert p.name not in ("ctx", "data") and p.name == p.name.lower()
        assert (p.kind is P.CHOICE) == bool(p.choices)
        assert not p.rest or i == len(cmd.params) - 1
        if p.kind is P.NULL:
            assert not p.required and p.default is None
        if p.required:
            assert p.default is None
        if p.min is not None or p.max is not None or p.nonzero:
            assert p.kind is P.INT
        if p.default is not None and p.kind is P.INT:
            assert isinstance(p.default, int)
            assert p.min is None or p.default >= p.min
            assert p.max is None or p.default <= p.max
        if p.max_len is not None:
            assert p.kind in (P.TEXT, P.FILE, P.HOST)


def test_data_commands_name_an_int_length_param() -> None:
    assert {c.name: c.data for c in COMMANDS if c.data} == DATA_COMMANDS
    for c in COMMANDS:
        if c.data:
            param = {p.name: p for p in c.params}[c.data]
            assert param.kind is P.INT and param.required
    assert {c.name for c in COMMANDS if c.data_unless_first} == {"TLSCERT", "WPAECERT"}
    assert BY_NAME["TLSCERT"].data_unless_first == "content"


def _defaults(name: str) -> dict[str, object]:
    return {p.name: p.default for p in BY_NAME[name].params}


def test_defaults_the_manual_states() -> None:
    assert _defaults("SOCKR")["length"] == 0
    assert _defaults("FSP")["offset"] == 0
    assert _defaults("HASH")["function"] == 0
    assert _defaults("PING") == {"counter": 1, "size": 56, "hostname": None}
    assert _defaults("HTTPGET")["path"] == "/index.html"
    assert _defaults("HTTPGET")["port"] is None  # 80 or 443 by TLS: the handler picks
    mqtt = _defaults("MQTTCONN")
    assert (mqtt["port"], mqtt["keep_alive"], mqtt["retry"]) == (1883, 60, 15)
    assert _defaults("TFTPGET")["port"] == 69
    assert _defaults("PWM")["duty_cycle"] == 50


def test_kinds_the_manual_states() -> None:
    sockon = BY_NAME["SOCKON"].params
    assert [p.kind for p in sockon] == [P.HOST, P.INT, P.NULL, P.TEXT]
    assert BY_NAME["SOCKDON"].params[1].choices == ("t", "u", "s1", "s2")
    assert BY_NAME["SCAN"].params[0].choices == ("d", "s", "m")
    assert [p.kind for p in BY_NAME["SMTP"].params].count(P.NULL) == 3
    ssid = BY_NAME["SSIDTXT"].params[0]
    assert (ssid.rest, ssid.max_len, ssid.required) == (True, 32, False)
    assert BY_NAME["SCFG"].params[-1].rest
    assert BY_NAME["FSC"].params[0].max_len == 64
    # Socket ids are checked by the handlers (error 76), not by the parser (error 8).
    for name in ("SOCKQ", "SOCKC", "SOCKW", "SOCKR", "SOCKDQ", "SOCKDW", "SOCKDR", "WSOCKW"):
        for p in BY_NAME[name].params:
            if p.name in ("id", "sid", "cid"):
                assert p.min is None and p.max is None


# --- Table 7 ---


def _octets(text: str) -> list[int]:
    return [int(o, 16) for o in text.split(":")] if text else []


@pytest.mark.parametrize("var", CONFIG_VARS, ids=lambda v: v.name)
def test_config_default_parses_for_its_type(var) -> None:
    d = var.default
    if var.type is VarType.INT:
        value = int(d)
    elif var.type is VarType.HEX:
        assert d.startswith("0x")
        value = int(d, 16)
    elif var.type is VarType.HEXN:
        assert re.fullmatch(r"[0-9A-F]{2}(:[0-9A-F]{2})*", d)
        assert var.size is not None and len(_octets(d)) <= var.size
        value = None
    elif var.type is VarType.TEXT:
        assert var.size is not None and len(d.encode()) <= var.size
        value = None
    elif var.type is VarType.IP:
        ipaddress.IPv4Address(d)
        value = None
    elif var.type is VarType.IPV6:
        # The manual prints "0:0:0:0:0:0:0" (seven groups): the store must read it as "::".
        assert re.fullmatch(r"[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){1,7}", d)
        value = None
    else:
        assert var.type is VarType.LIST
        value = None
        assert all(int(x) >= 0 for x in d.split())
    if value is not None:
        assert var.min is None or value >= var.min
        assert var.max is None or value <= var.max
    if var.min is not None or var.max is not None:
        assert var.type in (VarType.INT, VarType.HEX)


def test_config_table_rows() -> None:
    names = [v.name for v in CONFIG_VARS]
    assert len(names) == len(set(names)) == 105
    assert names[0] == "nv_manuf" and names[-1] == "ip_mdns_startup"
    i = names.index("wifi_wep_keys[0]")
    assert names[i : i + 4] == [f"wifi_wep_keys[{k}]" for k in range(4)]
    c = CONFIG_BY_NAME
    assert c["wifi_wpa_psk_text"].default == ""
    assert (c["wifi_wpa_psk_text"].type, c["wifi_wpa_psk_text"].size) == (VarType.TEXT, 64)
    assert (c["nv_wifi_macaddr"].type, c["nv_wifi_macaddr"].size) == (VarType.HEXN, 6)
    assert c["console_delimiter"].default == "0x2C" and c["console_delimiter"].type is VarType.HEX
    assert c["wifi_opr_rate_mask"].type is VarType.HEX
    assert c["ip_mdns_services_port"].type is VarType.LIST
    assert c["ip_mdns_services_port"].default == "80 69"
    assert (c["console_speed"].min, c["console_speed"].max) == (9600, 921600)
    assert (c["wifi_region"].min, c["wifi_region"].max) == (0, 7)
    assert c["console_echo"].default == "1" and c["console_errs"].default == "2"
    assert c["wifi_ssid"].default == "53:54:54:65:73:74:00"


# --- Tables 8 and 9 ---


def test_status_and_peer_tables() -> None:
    names = [v.name for v in STATUS_VARS]
    assert len(names) == len(set(names)) == 42
    assert names[0] == "build" and names[-1] == "ip_dns2v6"
    assert STATUS_BY_NAME["wifi_state"].example == "10"
    assert STATUS_BY_NAME["fw_version"].example == "1.0.0"
    peers = [v.name for v in PEER_VARS]
    assert len(peers) == len(set(peers)) == 22
    assert peers[0] == "link_id" and peers[-1] == "capinfo"


# --- Tables 10-14 ---


def test_errors() -> None:
    assert ERRORS[77] == "Pending data"
    assert ERRORS[76] == "Illegal Socket ID"
    assert ERRORS[71] == "Closing socket"
    assert ERRORS[72] == "Closed socket"
    assert ERRORS[1] == "Command not found"
    assert ERRORS[2] == "Missing argument(s)"
    assert ERRORS[19] == "Direction must be 'in' or 'out'"
    assert ERRORS[32] == "Argument exceeds allowed size"
    assert ERRORS[111] == "Request failed"
    assert 3 not in ERRORS and 119 not in ERRORS  # Reserved
    assert len(ERRORS) == 65
    assert all(not t.startswith('"') and t != "Reserved" for t in ERRORS.values())
    assert WEBSOCKET_ERRORS[0] == "Connection Refused" and len(WEBSOCKET_ERRORS) == 6
    assert HTTP_ERRORS[0] == "Error while resolving Hostname" and len(HTTP_ERRORS) == 16
    assert CERT_ERRORS[21] == "The certificate has expired"
    assert 0 not in CERT_ERRORS and 24 not in CERT_ERRORS and len(CERT_ERRORS) == 22


def test_winds() -> None:
    expect = {
        0: "Console active",
        1: "Poweron",
        24: "WiFi Up",
        32: "WiFi Hardware Started",
        33: "WiFi Network Lost",
        55: "Pending Data",
        58: "Socket Closed",
        13: "Copyright (c) 2012-2017 STMicroelectronics, Inc. All rights Reserved",
    }
    for n, text in expect.items():
        assert WINDS[n].text == text
        assert WINDS[n].number == n
    assert WINDS[55].fields == "%u:%u:%u:%u"
    assert WINDS[0].fields == WINDS[32].fields == WINDS[33].fields == ""
    assert WINDS[62].fields == "%i:%u:%u:%u:%u"  # no space left from the PDF's wrap
    reserved = {6, 37, 47, 48, 54, 59, 60, 71, 79}
    assert set(WINDS) == set(range(91)) - reserved
    assert all(" " not in w.fields or w.number == 17 for w in WINDS.values())
