"""Handlers: servers."""

from atwifi.spwf04.commands import handler  # noqa: F401
