"""The exit codes of ``banknote-guard``, one meaning each, for scripts that run it."""

from __future__ import annotations

#: Every note was verified and found genuine (or the command did what it was asked).
EXIT_ALL_GENUINE = 0
#: At least one note needs a person's look: suspect, uncertain, unknown or retake.
EXIT_NEEDS_A_LOOK = 1
#: The command could not run: unusable model file, bad arguments, broken dataset layout, ...
EXIT_FATAL = 2
#: Some files could not be read (or there were only errors) and no note needs a look.
EXIT_UNREADABLE = 3
#: The work was done but an output (results file, report, model) could not be written.
EXIT_OUTPUT_FAILED = 4
#: Stopped by the operator (Ctrl+C) or cancelled; what was done so far is kept.
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """exit codes:
  0    every note was verified and found genuine
  1    at least one note needs a look: suspect, uncertain, unknown or retake (whatever else happened)
  2    fatal error (model file unusable, bad arguments, ...)
  3    some files could not be read (or only errors) and no note needs a look
  4    the notes were verified but an output file could not be written (the table was still printed)
  130  stopped with Ctrl+C; what was verified was printed and written
"""
