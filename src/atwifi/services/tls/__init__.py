"""TLS: the module's certificate store and certificate checks against the module's clock.

Failures: ``CertError`` (a ``ServiceError`` of kind ``TlsFault.CERTIFICATE`` whose
``reason``, also ``info["reason"]``, is a ``CertReason``) and ``ServiceError(TlsFault.*)``
for the store.
"""

from atwifi.services.tls.service import TlsService, reason_from_ssl
from atwifi.services.tls.store import CertStore
from atwifi.services.tls.verify import CertError, CertReason, TlsFault, verify_peer

__all__ = [
    "CertError",
    "CertReason",
    "CertStore",
    "TlsFault",
    "TlsService",
    "reason_from_ssl",
    "verify_peer",
]
