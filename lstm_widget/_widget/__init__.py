"""The widget side: the Explorer (``explorer``: traits and public methods) and what it is composed of — the sync
with the page (``sync``), the payloads built from recordings (``payload``, ``options``, ``trajectory``), the "Why"
controller (``why``), a recorded data set read one window at a time (``recorded``) — the channel grid
(``channels``), the standalone HTML export (``export``) and the built front-end bundles (``static``).

Nothing is imported here: ``lstm_widget`` loads ``explorer`` or ``channels`` on first use.
"""
