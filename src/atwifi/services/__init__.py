"""Dialect-free services: what the module does on the host's network and disk."""
