"""The ``spwf04`` module as scripts see it (MicroPython source, run by the driver first).

Everything goes through the AT command set, run by the runtime's entry point
(``execute(request, sink)``): a script's socket is a SOCKON socket (the module's buffers and
the network policy apply), its files are the module's volumes. docs/micropython.md.
"""

PRELUDE = r"""
import sys, binascii
import time as _utime

class ATError(Exception):
    "AT-S.ERROR:<n>:<text>: args (n, text)"
_ERRORS["ATError"] = ATError

def _b64(data):
    if isinstance(data, str):
        data = data.encode()
    return binascii.b2a_base64(data).decode()

def at(cmd, data=None):
    '''Run an AT command; returns its reply lines (str, "AT-S.OK" excluded), a data block
    (SOCKR, FSP) as bytes. AT-S.ERROR raises ATError(n, text).'''
    out = []
    for kind, v in _call("at", cmd, None if data is None else _b64(data)):
        out.append(binascii.a2b_base64(v) if kind == "r" else v)
    return out

def _var(lines):
    for l in lines:
        if isinstance(l, str) and l.startswith("AT-S.Var:"):
            return l.split("=", 1)[1]
    return None

def sts(name):
    "A status variable (Table 8) as text."
    return _var(at("AT+S.STS=" + name))

def gcfg(name):
    "A configuration variable (Table 7) as text."
    return _var(at("AT+S.GCFG=" + name))

def scfg(name, value):
    at("AT+S.SCFG=%s,%s" % (name, value))

def wifi_state():
    return int(sts("wifi_state"))

def ip():
    return sts("ip_ipaddr")

def wifi(on=True):
    at("AT+S.WIFI=%d" % (1 if on else 0))

def join(ssid, key=None, priv_mode=2):
    "Station join: SSIDTXT, the WPA key, wifi_mode 1, then the radio on (WIND:24 follows)."
    at("AT+S.WIFI=0")
    at("AT+S.SSIDTXT=" + ssid)
    scfg("wifi_priv_mode", priv_mode if key else 0)
    if key:
        scfg("wifi_wpa_psk_text", key)
    scfg("wifi_mode", 1)
    at("AT+S.WIFI=1")

def time():
    "The module's clock (seconds since 1970; 0 at power-on until NTP or a TLS date)."
    return _call("clock")

def sleep(s):
    _call("sleep", s)

def sleep_ms(ms):
    _call("sleep", ms / 1000)

# -- files: the module's volumes ---------------------------------------------------------
def listdir():
    "[(name, size), ...] as FSL lists them."
    out = []
    for l in at("AT+S.FSL"):
        if isinstance(l, str) and l.startswith("AT-S.File:"):
            f = l[10:].split("\t")
            out.append((f[2], int(f[1])))
    return out

def remove(name):
    at("AT+S.FSD=" + name)

def read_file(name):
    return open(name, "rb").read()

def write_file(name, data):
    f = open(name, "wb")
    f.write(data)
    f.close()

_PIECE = 1024  # bytes a call: the answer (base64) fits the bridge's 2 KiB

def _in_pieces(head, data):
    "data in commands of at most _PIECE bytes each: head,<length> and its bytes (FSC, SOCKW)"
    if isinstance(data, str):
        data = data.encode()
    for i in range(0, len(data), _PIECE):
        piece = data[i:i + _PIECE]
        at("%s,%d" % (head, len(piece)), piece)
    return len(data)

class File:
    def __init__(self, name, mode):
        self.name = name
        self.mode = mode
        self.binary = "b" in mode
        self.pos = 0
        self.buf = []
        if "w" in mode:
            try:
                remove(name)
            except ATError:
                pass
        if "r" in mode:
            self.size = self._size()
    def _size(self):
        try:
            lines = at("AT+S.FSP=%s,0,0" % self.name)
        except ATError:
            raise OSError(2)
        for l in lines:
            if isinstance(l, str) and l.startswith("AT-S.Reading:"):
                return int(l.rsplit(":", 1)[1])
        raise OSError(2)
    def read(self, n=-1):
        left = self.size - self.pos
        if n is None or n < 0 or n > left:
            n = left
        parts = []
        while n > 0:
            k = min(n, _PIECE)
            got = b"".join([x for x in at("AT+S.FSP=%s,%d,%d" % (self.name, self.pos, k))
                            if isinstance(x, bytes)])
            if not got:
                break
            parts.append(got)
            self.pos += len(got)
            n -= len(got)
        data = b"".join(parts)
        return data if self.binary else data.decode()
    def readlines(self):
        return self.read().split("\n" if not self.binary else b"\n")
    def write(self, data):
        return _in_pieces("AT+S.FSC=%s" % self.name, data)
    def close(self):
        pass
    def __enter__(self):
        return self
    def __exit__(self, *a):
        self.close()

def open(name, mode="r"):
    "A file of the module's volumes: 'r', 'rb', 'w', 'wb', 'a', 'ab' (FSP / FSC / FSD)."
    return File(name, mode)

# -- sockets: the module's socket clients (SOCKON...) ------------------------------------
class socket:
    def __init__(self, host, port, kind="t"):
        self.id = None
        for l in at("AT+S.SOCKON=%s,%d,NULL,%s" % (host, port, kind)):
            if isinstance(l, str) and l.startswith("AT-S.On:"):
                self.id = int(l.rsplit(":", 1)[1])
        if self.id is None:
            raise OSError(103, "no socket id")
    def send(self, data):
        return _in_pieces("AT+S.SOCKW=%d" % self.id, data)
    write = send
    def pending(self):
        for l in at("AT+S.SOCKQ=%d" % self.id):
            if isinstance(l, str) and l.startswith("AT-S.Query:"):
                return int(l[11:])
        return 0
    def recv(self, n=_PIECE, timeout=5.0):
        "Up to n bytes; waits up to timeout s for the first; b'' when nothing came."
        n = min(n, _PIECE)
        deadline = _utime.ticks_add(_utime.ticks_ms(), int(timeout * 1000))
        while True:
            if self.pending():
                return b"".join([x for x in at("AT+S.SOCKR=%d,%d" % (self.id, n))
                                 if isinstance(x, bytes)])
            if _utime.ticks_diff(deadline, _utime.ticks_ms()) <= 0:
                return b""
            sleep_ms(10)
    read = recv
    def close(self):
        if self.id is not None:
            at("AT+S.SOCKC=%d" % self.id)
            self.id = None
    def __enter__(self):
        return self
    def __exit__(self, *a):
        self.close()

# -- pins ----------------------------------------------------------------------------------
def gpio_conf(num, direction, interrupt=None):
    at("AT+S.GPIOC=%d,%s%s" % (num, direction, "," + interrupt if interrupt else ""))

def gpio_read(num):
    "(level, direction) of GPIO num."
    for l in at("AT+S.GPIOR=%d" % num):
        if isinstance(l, str) and l.startswith("AT-S.Value:"):
            f = l[11:].split(":")
            return int(f[1]), f[2]

def gpio_write(num, level):
    at("AT+S.GPIOW=%d,%d" % (num, level))

def adc(num):
    for l in at("AT+S.ADC=%d" % num):
        if isinstance(l, str) and l.startswith("AT-S.Value:"):
            return int(l[11:])

def dac(mv):
    at("AT+S.DAC=%d" % mv)

def pwm(num, freq, duty=50):
    at("AT+S.PWM=%d,%d,%d" % (num, freq, duty))

class _M:
    pass

_mod = _M()
for _n, _v in list(globals().items()):
    if not _n.startswith("_") or _n in ("__name__",):
        setattr(_mod, _n, _v)
_mod.__name__ = "spwf04"
sys.modules["spwf04"] = _mod

# time: MicroPython's, with sleeps that Ctrl-C interrupts and time() on the module's clock
_t = _M()
for _n in dir(_utime):
    if not _n.startswith("__"):
        setattr(_t, _n, getattr(_utime, _n))
_t.sleep = sleep
_t.sleep_ms = sleep_ms
_t.sleep_us = lambda us: sleep(us / 1000000)
_t.time = lambda: int(time())
_t.__name__ = "time"
sys.modules["time"] = _t
sys.modules["utime"] = _t
"""
