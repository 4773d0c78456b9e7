"""The SPWF04Sx dialect: its tables (data), its command handlers, and the device runtime."""
