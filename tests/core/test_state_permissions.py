"""The state folder is private whatever the umask: folder 0700, files and socket 0600.

It holds passphrases (flash), private keys (certs/) and the control socket that prints the
world's passphrases (world.show), so a umask of 000 must not open them to other users."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import trustme

from harness import ServedModule, spawn_serve, stop_serve


def modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            out[str(p.relative_to(root))] = stat.S_IMODE(p.lstat().st_mode)
    return out


async def test_umask_000_leaves_nothing_readable_by_others(tmp_path: Path) -> None:
    state = tmp_path / "state"
    old = os.umask(0)
    try:
        proc, port = spawn_serve(state)  # the child inherits umask 000
    finally:
        os.umask(old)
    m = ServedModule(proc, port)
    try:
        await m.connect()
        await m.joined()
        key = trustme.CA().issue_cert("module.local").private_key_pem.bytes()
        assert (await m.cmd(f"AT+S.TLSCERT=key,{len(key)}", key)).endswith(b"AT-S.OK\r\n")
        assert (await m.cmd("AT+S.SCFG=wifi_wpa_psk_text,secret-pass")).endswith(b"AT-S.OK\r\n")
        assert (await m.cmd("AT+S.WCFG")).endswith(b"AT-S.OK\r\n")
        found = modes(state)
        assert "certs/tls/key.der" in found, sorted(found)
        assert "ctl.sock" in found, sorted(found)
        for name, mode in found.items():
            is_dir = (state / name).is_dir() and not (state / name).is_symlink()
            if is_dir:
                assert mode == 0o700, (name, oct(mode))
            else:
                assert mode & 0o077 == 0, (name, oct(mode))
    finally:
        await m.disconnect()
        stop_serve(proc)


def test_an_existing_open_state_folder_is_closed(tmp_path: Path) -> None:
    from atwifi.statedir import private_folder

    folder = tmp_path / "open"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    private_folder(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
