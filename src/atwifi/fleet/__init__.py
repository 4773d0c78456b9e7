"""Many virtual modules in one process sharing one simulated world (``atwifi fleet FILE``)."""
