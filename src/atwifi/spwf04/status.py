"""Status variables (Table 8): stored values plus live ones computed when printed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atwifi.errors import AtError
from atwifi.spwf04.table.status_vars import STATUS_BY_NAME, STATUS_VARS

# Values of a module that has just powered up and not joined anything. Live values (time,
# uptime, counters, heap) are provided by the device.
_INITIAL: dict[str, Any] = {
    "build": "171117-0328fe3-SPWF04S",
    "fw_version": "1.1.0",
    "boot_version": "1.0",
    "var_version": 1,
    "free_heap": 55200,
    "min_heap": 52576,
    "system_sleeptime": 0,
    "startup": 0,
    "random_number": 0,
    "gpio_enable": "0x0000",
    "app_fs": 0,
    "user_fs": 0,
    "extvol_fs": 0,
    "wifi_state": 0,
    "wifi_bssid": "00:00:00:00:00:00",
    "wifi_aid": 0,
    "wifi_channelnum": 0,
    "wifi_sup_rate_mask": "0x003FFFCF",
    "wifi_bas_rate_mask": "0x0000000F",
    "wifi_chan_activity": "0x00003FFF",
    "wifi_max_tx_power": 18,
    "wifi_gf_mode": 0,
    "wifi_reg_country": "IT",
    "wifi_dtim_period": 1,
    "wifi_num_assoc": 0,
    "ip_from_AutoIP": 0,
    "ip_ipaddr": "0.0.0.0",
    "ip_netmask": "0.0.0.0",
    "ip_gw": "0.0.0.0",
    "ip_dns1": "0.0.0.0",
    "ip_dns2": "0.0.0.0",
    "ip_linklocal": "0:0:0:0:0:0:0",
    "ip_local": "0:0:0:0:0:0:0",
    "ip_dns1v6": "0:0:0:0:0:0:0",
    "ip_dns2v6": "0:0:0:0:0:0:0",
}


class Status:
    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._live: dict[str, Callable[[], Any]] = {}
        self.clear()

    def clear(self) -> None:
        """Back to power-up values (live providers stay)."""
        self._values = {v.name: _INITIAL.get(v.name, v.example) for v in STATUS_VARS}

    def set(self, name: str, value: Any) -> None:
        if name not in STATUS_BY_NAME:
            raise KeyError(name)
        self._values[name] = value

    def get(self, name: str) -> Any:
        fn = self._live.get(name)
        if fn is not None:
            return fn()
        return self._values[name]

    def provide(self, name: str, fn: Callable[[], Any]) -> None:
        if name not in STATUS_BY_NAME:
            raise KeyError(name)
        self._live[name] = fn

    def text(self, name: str) -> str:
        key = name if name in STATUS_BY_NAME else _ci(name)
        return str(self.get(key))

    def items(self) -> list[tuple[str, str]]:
        return [(v.name, str(self.get(v.name))) for v in STATUS_VARS]


def _ci(name: str) -> str:
    low = name.lower()
    for key in STATUS_BY_NAME:
        if key.lower() == low:
            return key
    raise AtError(4, f"no status variable {name!r}")
