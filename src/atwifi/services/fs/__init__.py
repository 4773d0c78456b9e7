"""The module's volumes and files, dialect-free.

    fs = FileSystem.standard(state_dir, ramdisk_bytes=16 * 1024, ext_folder=None)
    await fs.mount_all()
    await fs.write("2:/a.txt", b"hi")          # append=True to append
    await fs.read("a.txt")                     # bare names: RAM, ext, user, app
    fs.exists("a.txt"); await fs.list(); await fs.delete("a.txt")

Every failure is a ``ServiceError`` whose kind is an ``FsFault`` (the step that failed).
"""

from atwifi.services.fs.errors import FsFault
from atwifi.services.fs.filesystem import ALGOS, FileEntry, FileSystem
from atwifi.services.fs.names import APP, EXT, FLAGS, MAX_NAME, RAM, USER

__all__ = [
    "ALGOS",
    "APP",
    "EXT",
    "FLAGS",
    "FileEntry",
    "FileSystem",
    "FsFault",
    "MAX_NAME",
    "RAM",
    "USER",
]
