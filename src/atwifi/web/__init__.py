"""The live web view of a running module (``atwifi serve --web HOST:PORT``).

Imported only when ``--web`` is given: aiohttp (the ``web`` extra) is never loaded otherwise.
"""
