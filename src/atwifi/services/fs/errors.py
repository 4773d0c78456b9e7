"""How the file system fails: the operation that could not be done (services/errors.py).

A dialect words each kind (the SPWF04's words are in spwf04/commands/files.py). The
kind names the step that failed, so the same failure reads the same whatever the caller:
file commands, TLS, HTTP, TFTP, scan output.
"""

from __future__ import annotations

from enum import Enum


class FsFault(Enum):
    ACCESS = "access"  # the file system or a volume cannot be used (not mounted, bad image)
    OPEN = "open"  # no such file, a bad name, a protected or full volume
    SEEK = "seek"  # an offset beyond the end
    READ = "read"  # reading failed
    CLOSE = "close"  # writing out failed
    RENAME = "rename"
    DELETE = "delete"
    OPENDIR = "opendir"  # a volume's folder is gone or unreadable (listing)
    READDIR = "readdir"  # listing failed in another way
    MOUNT = "mount"  # (un)mounting failed, or no such volume
