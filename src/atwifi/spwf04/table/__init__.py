"""The SPWF04Sx dialect as data, transcribed from the AT command manual's tables.

commands.py   Table 1 plus section 6 (parameters, defaults, {data})
config_vars.py Table 7      status_vars.py Table 8      peer_vars.py Table 9
errors.py     Tables 10-13  winds.py Table 14
"""
