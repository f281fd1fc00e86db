"""Sync with the page, kernel side: who wins when both sides write a trait, and ``t`` throttled to the page.

:class:`PageSync` is the base class of the widgets whose traits both the page and Python write. It overrides the
private methods of ipywidgets' ``Widget`` that decide what is sent (``_should_send_property``, ``get_state``,
``set_state``) — the only place in the package that does — for two rules of js/PROTOCOL.md:

- The last writer wins, in the kernel's order. Each change of a page key (``_page_keys``) made in the kernel bumps
  that key's revision, and the revisions travel with the value (``_rev`` in the same update message). A page write
  of a key carries the revision of it the page had seen (``_seen_<key>`` = [revision, write number]); a write of a
  key the kernel has changed since (the page had not seen that yet: it was playing, or its message was queued or
  buffered) is refused and the kernel's value is sent back. So ``ex.pause(); ex.t = 4`` while the page plays ends at
  4 on both sides, however late the page's last writes arrive.
- ``t`` set from Python is sent at most once per ``_sync_ms`` milliseconds while a cell keeps setting it (a loop);
  the value it ends on is sent when the kernel is free again. A single change is sent at once, as is every change
  inside ``hold_sync``. ``_sync_ms`` is synced: the page throttles its own writes of ``t`` (and of other keys it
  writes while dragging) with the same interval.
"""

from __future__ import annotations

import asyncio
import threading
import time

import anywidget
import traitlets as tl


def _revision(seen) -> int:
    """The revision a page write says it had seen (``[revision, write number]``); a write without one (another
    front end) is taken as current."""
    if isinstance(seen, (list, tuple)) and seen and isinstance(seen[0], int):
        return seen[0]
    return 1 << 62


class PageSync(anywidget.AnyWidget):
    """An anywidget whose ``_page_keys`` (set by the subclass: the traits both sides write) follow the revision
    protocol, and whose ``t`` (when it has one) is throttled to the page."""

    #: Milliseconds between two sends of ``t`` from a loop (and between two page writes while dragging).
    _sync_ms = tl.Int(50).tag(sync=True)
    #: The traits both the page and Python write (a subclass names them).
    _page_keys: frozenset = frozenset()
    _t_sent_at = -1e9
    _t_flush = None

    def __init__(self, **kwargs):
        self._revisions: dict[str, int] = {}
        self._revisions_lock = threading.RLock()  # ipykernel may handle page messages while a cell runs
        super().__init__(**kwargs)

    def _from_page(self, name: str) -> bool:
        """Whether the change of ``name`` being handled was written by the page (not by Python)."""
        return name in getattr(self, "_property_lock", {})

    def _refuse_page(self, name: str, old) -> None:
        """A page that wrote ``name`` is sent the value still in force (it would otherwise keep waiting)."""
        if self._from_page(name):
            self._send({"method": "update", "state": {name: old}, "buffer_paths": []})

    # ---- ipywidgets' private sync methods --------------------------------------------------------------------
    def _should_send_property(self, key, value):
        send = super()._should_send_property(key, value)
        # A change made here (not one the page just sent, which super() declines to send back) is a new revision.
        if key in self._page_keys and (send or (self._holding_sync and key in self._states_to_send)):
            with self._revisions_lock:
                for k in (key, "t") if key == "sequence" else (key,):
                    self._revisions[k] = self._revisions.get(k, 0) + 1
        if key != "t" or not send:
            return send
        now = time.perf_counter()
        if (now - self._t_sent_at) * 1000 >= self._sync_ms or not self._defer_t():
            self._t_sent_at = now
            return True
        return False

    def get_state(self, key=None, drop_defaults=False):
        state = super().get_state(key, drop_defaults)
        if key is None or ({key} if isinstance(key, str) else set(key)) & self._page_keys:
            state["_rev"] = dict(self._revisions)
        return state

    def set_state(self, sync_data):
        seen = {k.removeprefix("_seen_"): sync_data.pop(k) for k in [k for k in sync_data if k.startswith("_seen_")]}
        with self._revisions_lock:
            stale = [
                k for k in sync_data if k in self._page_keys and _revision(seen.get(k)) < self._revisions.get(k, 0)
            ]
            for k in stale:
                del sync_data[k]
            super().set_state(sync_data)
        if stale and self.comm is not None:
            self.send_state(stale)

    def _defer_t(self) -> bool:
        """Send ``t`` later, once the event loop runs again; False (send now) when there is no running loop."""
        if self._t_flush is not None:
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False

        def flush():
            self._t_flush = None
            self._t_sent_at = time.perf_counter()
            if self.comm is not None:
                self.send_state("t")

        self._t_flush = loop.call_later(self._sync_ms / 1000, flush)
        return True
