"""HTTP client (HTTPGET, HTTPPOST, file system and firmware downloads), dialect-free.

``HttpClient.fetch(request, sink)`` runs one request over the module's own connection path
(network policy, resolver, TLS checked against the module's clock) and streams the reply
into ``sink``. Failures are ``ServiceError(HttpFault.<kind>)``. h11 is imported lazily.
"""

from atwifi.services.http.client import (
    BodySource,
    HttpClient,
    HttpFault,
    HttpRequest,
    Network,
    Sink,
)

__all__ = [
    "BodySource",
    "HttpClient",
    "HttpFault",
    "HttpRequest",
    "Network",
    "Sink",
]
