"""Table 9 of the manual: the peer variables in the manual's order (= PEERS order), printed as
AT-S.Var:<n>.<var>=<value> where n = 0 is the AP the module is joined to (STA mode) and 1..5 the
clients connected to the MiniAP.
"""

from __future__ import annotations

from atwifi.spwf04.table.schema import PeerVar

PEER_VARS: tuple[PeerVar, ...] = (
    PeerVar("link_id", "0", "Identifier of the client"),
    PeerVar(
        "state",
        "4",
        "0 = Hardware Power Up 1 = HW link initialization 2 = Client Link identifier allocated 3 = Authenticated 4 = Associated 5 = Peer lost beacons 6 = Peer in power save state",
    ),
    PeerVar("addr", "02:62:1F:51:8F:0B", "MAC address of the client"),
    PeerVar("last_rx", "14", "Timestamp of last received packet"),
    PeerVar("last_tx", "14", "Timestamp of last transmitted packet"),
    PeerVar("rx_drops", "0", "Count of frames dropped during reception"),
    PeerVar("tx_drops", "0", "Count of frames dropped during transmission"),
    PeerVar("rx_pkts", "22", "Count of received frames"),
    PeerVar("tx_pkts", "24", "Count of transmitted frames"),
    PeerVar("tx_errs", "0", "Count of errors detected during frame transmit"),
    PeerVar("rate_mask", "0x00003FCF", "AP reported Operational data rate mask"),
    PeerVar("cur_rate_idx", "3", "Most significant byte of the rate_mask"),
    PeerVar("cur_rate_ok", "3", "Counter to perform rate step up"),
    PeerVar("cur_rate_fail", "0", "Counter to perform rate step down"),
    PeerVar("tx_consec_fail", "0", "Counter to perform disassociation"),
    PeerVar("rx_seqnum", "0x000031F0", "Sequence number of last RX directed frame"),
    PeerVar("rx_seqnum_mc", "0x00002780", "Sequence number of last RX multicast frame"),
    PeerVar("rx_rssi", "-51", "Signal strength of last received packet"),
    PeerVar("rx_rateidx", "13", "Rate index of last received packet"),
    PeerVar(
        "setprot",
        "3",
        "Bitmask to indicate protection for TX (bit 1) and/or RX (bit 0) IEEE 802.11 frames",
    ),
    PeerVar("listen_interval", "0", "AP reported listen interval"),
    PeerVar("capinfo", "0x00000411", "Information about the AP capabilities"),
)

PEER_BY_NAME: dict[str, PeerVar] = {v.name: v for v in PEER_VARS}
