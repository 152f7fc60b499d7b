"""banknote_guard.gui: the desktop application (PySide6).

``app.main()`` starts it (``banknote-guard gui``, ``python -m banknote_guard``). ``main_window`` holds
the navigation and the pages (``pages/``); ``widgets/`` the charts, result card and thumbnail grid;
``workers`` is the only bridge between the engine's progress callbacks / cancel tokens and Qt signals.
Only this package imports Qt; it talks to the engine through :mod:`banknote_guard.api` alone.
"""
