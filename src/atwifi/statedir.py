"""The module's state folder: private to the user who runs it, whatever the umask.

It holds passphrases (flash), private keys (certs/) and the control socket, so the folder
and every folder atwifi makes inside it are 0700 and every file 0600 (flash, keys and the
socket set their own modes; see services/flash.py, services/tls/store.py, control/server.py).
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Create ``path`` and any missing parents as 0700 (``mkdir(parents=True)`` would give
    the parents the umask's mode), and make ``path`` itself 0700."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(folder, FOLDER_MODE)
    if not missing and path.stat().st_mode & 0o777 != FOLDER_MODE:
        os.chmod(path, FOLDER_MODE)
    return path
