"""MicroPython on the SPWF04: the ``spwf04`` module's prelude and the host functions."""
