"""Capture: notes straight from a webcam, a document scanner or a watched folder (engine, no Qt).

- :mod:`~banknote_guard.capture.frames`: the frame-source interface (open, frames, close).
- :mod:`~banknote_guard.capture.camera`: cameras, streams and video files through OpenCV.
- :mod:`~banknote_guard.capture.live`: where the note is in a live frame, and whether it is sharp.
- :mod:`~banknote_guard.capture.autocapture`: when to take the picture (steady, whole, sharp; once per note).
- :mod:`~banknote_guard.capture.session`: a live session, verifying each capture off the frame loop.
- :mod:`~banknote_guard.capture.scanner`: SANE scanners through ``scanimage``; several notes on a page.
- :mod:`~banknote_guard.capture.watch`: a folder that other programs drop pictures into.
- :mod:`~banknote_guard.capture.errors`: what can go wrong, in words for an operator.

Whether a picture is good enough to judge (blurred, dark, glare, cut off, too small, several notes)
is decided for every source alike by :mod:`banknote_guard.verify.quality`, inside the verifier.
"""
