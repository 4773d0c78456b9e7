"""Table 14 of the manual: the asynchronous indications +WIND:<n>:<text>[:<fields>].

Reserved rows are left out. ``text`` is the descriptive string without quotes; ``fields`` is the
manual's printf shape of the variables (%m = MAC address, %i = IP address), with the spaces the
PDF's line wrapping put after some colons removed; ``description`` is the manual's description
column followed by its application note, if any.
"""

from __future__ import annotations

from atwifi.spwf04.table.schema import WindDef

WINDS: dict[int, WindDef] = {
    0: WindDef(
        0,
        "Console active",
        "",
        "Note: After a reset, wait for this wind message before sending commands",
    ),
    1: WindDef(1, "Poweron", "%s-%s-%s", "DATE,BUILD,MODEL"),
    2: WindDef(2, "Reset", "", ""),
    3: WindDef(3, "Watchdog Running", "%u", "Configured watchdog timeout"),
    4: WindDef(4, "Low Memory", "", ""),
    5: WindDef(
        5,
        "WiFi Hardware Failure",
        "%u",
        'DEAD Reason. Range of values: 1. Shown when a WiFi exception "WIND:31" happens 2. Shown when a WPA Init "WIND:50" happens 3. Shown when startup "WIND:32" cannot be reached 4. Shown when driver is not able to write to cw1100 5. Shown when cw1100 does not send an ack within given timeout',
    ),
    7: WindDef(
        7,
        "Configuration Failure",
        "%u",
        "Failure reason. Range of values: 1. Reserved 2. Reserved 3. Reserved 4. Shown when RTC cannot be initialized 5. Reserved 6. Shown when System Tick cannot be initialized 7. Shown when Flash cannot be written 8. Shown when uPython detects a fatal error 9. Shown when UART/SPI queues cannot be created 10. (Does not Halt) Shown when HW pull-up resistor has no match with enabled interface 11. (Does not Halt) Shown when Ext SPI Flash cannot be formatted 12. (Does not Halt) Shown when Ext SPI Flash cannot be mounted 13. Shown when APP disk cannot be mounted 14. Shown when RAM disk cannot be created",
    ),
    8: WindDef(8, "Hard Fault", "%s:(%08x)*8", "Task, name, STM32 registers content"),
    9: WindDef(9, "StackOverflow", "%s", "Task name"),
    10: WindDef(10, "Malloc Failed", "%s:%d:%d", "Task name, Required Size, Available Size"),
    11: WindDef(
        11,
        "Radio Startup Failure",
        "%u:%08x",
        "Failure Reason, Found register content. Range of Values 1. Shown when cw1100 Prefetch bit cannot be set 2. Shown when cw1100 Firmware cannot be uploaded 3. Shown when cw1100 is not evaluated as sane 4. Shown when cw1100 DPLL register cannot be set 5. Shown when cw1100 cannot be woken up 6. Shown when cw1100 ID low register is evaluated as bad 7. Shown when cw1100 ID medium register is evaluated as bad 8. Shown when cw1100 ID high register is evaluated as bad 9. Shown when cw1100 cannot be set in Direct Mode 10. Shown when cw1100 cannot be set in ETF Mode",
    ),
    12: WindDef(
        12,
        "WiFi PS Mode Failure",
        "%u:%d",
        "Failure Reason, Found status. Range of Values 1. Shown when cw1100 is not allowing PM set 2. Shown when AP does not provide an answer within given timeout 3. Shown when cw1100 raises this event",
    ),
    13: WindDef(
        13,
        "Copyright (c) 2012-2017 STMicroelectronics, Inc. All rights Reserved",
        "%s",
        "nv_model configuration variable",
    ),
    14: WindDef(14, "WiFi BSS Regained", "%d", "Threshold"),
    15: WindDef(15, "WiFi Signal Low", "%d", "RSSI"),
    16: WindDef(16, "WiFi Signal Ok", "%d", "RSSI"),
    # 17 has no literal text in the manual: "Boot Messages" names a family of lines printed by the
    # boot loader during a firmware update; the variants go into the %s (docs/behaviour.md).
    17: WindDef(
        17,
        "Boot Messages",
        "%s",
        "Welcome message from FW update: 'Boot %u.%u'; 'Aborting F/W update:%u' (FW cannot be"
        " updated (GPIO0 / CRC). Cleanup.); 'Performing F/W update' (FW was validated, before"
        " write); 'Completed F/W update' (FW was updated. Cleanup); 'Cleanup' (mass storage is"
        " going to be erased). Note: UART baudrate is hardcoded to 115200. Message string (%s)"
        " cannot be removed through console_winds configuration variable.",
    ),
    18: WindDef(18, "Keytype not implemented", "%u", "Required Key Type"),
    19: WindDef(19, "WiFi Join", "%m", "AP MAC Address"),
    20: WindDef(
        20,
        "WiFi Join Failed",
        "%04x",
        "Failure Reason. Range of Values 0001 – Shown when cw1100 cannot be configured 0002 – Shown when cw1100 does not send an ack within a given timeout 0003 – shown when cw1100 cannot be configured after join operation Shown when cw1100 reply status is evaluated as bad",
    ),
    21: WindDef(21, "WiFi Scanning", "", ""),
    22: WindDef(22, "Scan Blew Up", "", ""),
    23: WindDef(23, "Scan Failed", "%04x", "Cw1100 reply status"),
    24: WindDef(
        24,
        "WiFi Up",
        "%u:%i",
        "IPFlag (0 → IPv4; 1 → temporary IPv4 coming from AutoIP), IPv4/6 address. Note: It may be printed up twice with both the IP addresses. The WIND concludes the association process with the remote AP",
    ),
    25: WindDef(25, "WiFi Association successful", "%s", "SSID"),
    26: WindDef(26, "Started AP", "%s", "SSID"),
    27: WindDef(27, "AP Start Failed", "%04x", "Cw1100 reply status"),
    28: WindDef(28, "Station Associated", "%m:%u", "Peer MAC Address, Re-association flag"),
    29: WindDef(29, "DHCP Reply", "%i:%m", "Peer IPv4 address, Peer MAC Address"),
    30: WindDef(30, "WiFi BSS Lost", "", ""),
    31: WindDef(
        31, "WiFi Exception", "%u:%s:%08x:%08x", "Reason, File Name, cw1100 registers content"
    ),
    32: WindDef(
        32, "WiFi Hardware Started", "", "Note: Wait for this WIND before switching on the radio"
    ),
    33: WindDef(33, "WiFi Network Lost", "", ""),
    34: WindDef(34, "WiFi Unhandled Event", "%02x", "Detected Event"),
    35: WindDef(35, "WiFi Scan Complete", "%02x", "Aborting Reason"),
    36: WindDef(36, "WiFi Unhandled Indication", "%02x", "Detected Indication"),
    38: WindDef(38, "WiFi Powered Down", "", ""),
    39: WindDef(39, "HW in MiniAP Mode", "", ""),
    40: WindDef(40, "WiFi Deauthentication", "%u", "Refer to standard"),
    41: WindDef(41, "WiFi Disassociation", "%u", "Refer to standard"),
    42: WindDef(42, "WiFi Unhandled Management", "%02x", "Received Frame"),
    43: WindDef(43, "WiFi Unhandled Data", "%02x", "Received Frame"),
    44: WindDef(44, "WiFi Unknown Frame", "%04x", "Received Frame"),
    45: WindDef(
        45, "Dot11 AuthIllegal", "%u:%u", "Authentication Algorithm, authentication sequence"
    ),
    46: WindDef(46, "WPA Crunching PSK", "%s:%u", "PSK,length"),
    49: WindDef(49, "WPA Terminated", "%d", "Exit Status"),
    50: WindDef(
        50,
        "WPA Start Failed",
        "%u",
        "Failure Reason. Range Values. 1. Shown when WPA Supplicant was not able to start 2. Shown when WPA Supplicant was not able to create peer table",
    ),
    51: WindDef(51, "WPA Handshake Complete", "", ""),
    52: WindDef(52, "GPIO Interrupt", "%u:%u", "GPIO number, level"),
    53: WindDef(53, "Wakeup", "", ""),
    55: WindDef(
        55, "Pending Data", "%u:%u:%u:%u", "Server ID, Client ID, Received bytes, cumulative bytes"
    ),
    56: WindDef(
        56,
        "Input to remote",
        "%u",
        "Input ID. Note: Only printed when buffer for input request is empty. Buffer is filled and cleared by AT +S.INPUTSSI command",
    ),
    57: WindDef(
        57,
        "Output from remote",
        "%u:%s",
        'Received message length, message. Note: Maximum allowed length is 128. Every message longer than 128 will be truncated. Use multipart/form-data webservice capability to send more than 128 bytes. Refer to AN4965 "WebServer on SPWF04S module',
    ),
    58: WindDef(
        58,
        "Socket Closed",
        "%u:%u",
        "Client ID Closure Reason. Values range 0. Shown when remote TCP sent a FIN 1. Shown when Remote TCP sent a RST, or did not reply to FINACK 2. Shown when too many retransmissions have occurred 3. Shown when network layer has broken 4. Shown when a timeout occurred 5. Shown when ICMP Destination Unreachable was received. Note: AT+S.SOCKC/AT +S.SOCKDC needs to be called to flush the buffer and clear the socket state",
    ),
    61: WindDef(
        61, "Incoming Socket Client", "%i:%u:%u:%u", "Client IP, client Port, server ID, client ID"
    ),
    62: WindDef(
        62,
        "Socket Client Gone",
        "%i:%u:%u:%u:%u",
        "Client IP, client Port, server ID, client ID, closure reason",
    ),
    63: WindDef(63, "Socket Dropping Data", "%u:%u:%u", "Server ID, client ID, dropped bytes"),
    64: WindDef(
        64,
        "Remote Configuration",
        "%s:%s",
        'Configuration item, configuration value. Note: Item called "Key" is only shown when different from user_desc password',
    ),
    65: WindDef(
        65,
        "Factory Reset",
        "%u",
        "Restore Reason. Values Range 0.GPIO0 high at start-up, or reset line not stable 1.CRC check failure on saved configuration",
    ),
    66: WindDef(
        66,
        "Low Power Mode",
        "%u",
        "Powersave Value. Values Range 1. Standard Powersave 2. Fast Powersave",
    ),
    67: WindDef(67, "Going into Standby", "%u", "Configured Standby Time"),
    68: WindDef(68, "Resuming from Standby", "", ""),
    69: WindDef(69, "Going into DeepSleep", "", ""),
    70: WindDef(70, "Resuming from DeepSleep", "", ""),
    72: WindDef(72, "Station Disassociated", "%m:%u", "Peer MAC Address, reason code"),
    73: WindDef(73, "System Configuration Updated", "", ""),
    74: WindDef(74, "Rejected found Network", "", ""),
    75: WindDef(
        75,
        "Rejected Association",
        "%04x",
        "Rejection Reason. Values Range Shown when cw1100 cannot be configured 0xffff – shown when WPA Supplicant was not able allocate memory",
    ),
    76: WindDef(76, "WiFi Authentication Timed Out", "", ""),
    77: WindDef(77, "WiFi Association Timed Out", "", ""),
    78: WindDef(78, "MIC Failure", "", ""),
    80: WindDef(
        80,
        "UDP Broadcast Received",
        "%u:%i:%u:%u:%s",
        "Server ID, Client IP, client port, datagram size, datagram content",
    ),
    81: WindDef(81, "WPS generating DH keyset", "", ""),
    82: WindDef(82, "WPS enrollment attempt timed out", "", ""),
    83: WindDef(
        83,
        "Sockd Dropping Client",
        "%u",
        "Dropping reason 1. Not enough RAM to allow access to socket client 2. Too many clients are connected (only when UDP)",
    ),
    84: WindDef(
        84,
        "NTP Server Delivery",
        "%u.%u.%u:%u:%u.%u.%u",
        "Year, month,day,day of week, hour, min,sec",
    ),
    85: WindDef(
        85,
        "DHCP failed to get a lease",
        "%u",
        "Failure reason. Range Values. 0. Shown when DHCP server does not respond 1. Shown when DHCP server answer has a wrong message format 2. Shown when given timeout value is not acceptable 3. Shown when received a NACK 4. Shown when DHCP server does not provide an IP address 5. Shown when DHCP server provide a lease time smaller than 50s 6. Shown when DHCP Lease Time expired",
    ),
    86: WindDef(
        86,
        "MQTT Published",
        "%u:%s:%u:%u:%u:%u:%u:%s",
        "Client ID, topic,QoS,retain,dupl,msg siz,tot siz,msg",
    ),
    87: WindDef(
        87,
        "MQTT Closed",
        "%u:%u",
        "Closure reason (0: connection level; 1: MQTT protocol level), Client ID",
    ),
    88: WindDef(
        88,
        "WebSocket Data",
        "%u:%u:%u:%u:%u",
        "Client ID, lastframe flag, lastfrag flag rcv bytes, cumulated bytes",
    ),
    89: WindDef(
        89,
        "WebSocket Closed",
        "%u",
        "Client ID. Note: AT+S.WSOCKC needs to be called to flush the buffer and clear the websocket state",
    ),
    90: WindDef(
        90,
        "File Received",
        "%i:%s",
        "Client IP (only provided if file comes from TFTP client), Filename",
    ),
}
