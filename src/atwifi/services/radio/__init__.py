"""The simulated Wi-Fi world (dialect-free): world file, access points, joins, scans, MiniAP."""

from atwifi.services.radio.events import Ev, Event, RadioError, RadioFault, State
from atwifi.services.radio.radio import IpInfo, Peer, Radio, ScanEntry, scan_entry
from atwifi.services.radio.settings import RadioSettings, Timing
from atwifi.services.radio.world import AccessPoint, World, WorldError

__all__ = [
    "AccessPoint",
    "Ev",
    "Event",
    "IpInfo",
    "Peer",
    "Radio",
    "RadioError",
    "RadioFault",
    "RadioSettings",
    "ScanEntry",
    "State",
    "Timing",
    "World",
    "WorldError",
    "scan_entry",
]
