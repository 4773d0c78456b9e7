"""atwifi: a virtual SPWF04Sx AT-command Wi-Fi module."""

__version__ = "0.1.0"
