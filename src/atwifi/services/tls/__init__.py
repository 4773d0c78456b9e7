"""TLS: the module's certificate store and certificate checks against the module's clock."""

from atwifi.services.tls.service import TlsService, table13_from_ssl
from atwifi.services.tls.store import CertStore
from atwifi.services.tls.verify import CertError, verify_peer

__all__ = ["CertError", "CertStore", "TlsService", "table13_from_ssl", "verify_peer"]
