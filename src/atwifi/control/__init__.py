"""The control channel: act on a running virtual module from outside (tests, `atwifi ctl`).

Server: ``atwifi.spwf04.parts.control:ControlPart`` listens on ``<state_dir>/ctl.sock``.
Verbs: ``atwifi.control.verbs`` (one registry; areas add their own modules).
Client: ``ControlClient(state_dir).call(verb, **args)`` or ``await .acall(...)``.
"""

from atwifi.control.client import ControlClient
from atwifi.control.protocol import ControlError, socket_path
from atwifi.control.verbs import verb

__all__ = ["ControlClient", "ControlError", "socket_path", "verb"]
