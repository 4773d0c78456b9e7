"""The module's own web server (dialect-free): files of the volumes over HTTP/HTTPS, SSI
markers resolved by the dialect, form posts and uploads reported as events, the MiniAP's
captive portal, and a small HTTP client for the simulated stations (``station.fetch``).

    from atwifi.services.httpd import WebServer, Limits, Captive
"""

from atwifi.services.httpd.server import CONFIG_NAME, Captive, Events, Limits, Provider, WebServer

__all__ = ["CONFIG_NAME", "Captive", "Events", "Limits", "Provider", "WebServer"]
