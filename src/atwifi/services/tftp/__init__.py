"""TFTP (RFC 1350) without any dialect: a client (get, put) and a server.

Failures are ``ServiceError(TftpFault.X)``; the dialect words them. File access goes through
callbacks the dialect provides, so the service never knows about volumes or error numbers.
"""

from atwifi.services.tftp.client import TftpFault, Timing, get, put
from atwifi.services.tftp.server import TftpServer

__all__ = ["TftpFault", "TftpServer", "Timing", "get", "put"]
