"""The Unicode font embedded in PDF reports (DejaVu Sans, bundled in ``assets/fonts``).

PDF's built-in fonts know only Latin-1; operator names, stations and file names can be in any
script, so reports embed a TrueType font. The bundled copy is used (``$BANKNOTE_GUARD_ASSETS/fonts``
or the checkout's ``assets/fonts``); an installed system copy of the same font is the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from banknote_guard.errors import BanknoteGuardError
from banknote_guard.resources import assets_dir

REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"
#: Where an installed copy of the font may be, after the bundled one.
SYSTEM_FOLDERS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)


class FontMissingError(BanknoteGuardError):
    """The report font is not where the application looks for it."""


@dataclass(frozen=True)
class FontFiles:
    regular: Path
    bold: Path


def font_folders() -> list[Path]:
    """The folders searched for the font, in order."""
    return [assets_dir() / "fonts", *SYSTEM_FOLDERS]


def report_fonts() -> FontFiles:
    """The regular and bold font files; raises FontMissingError naming where it looked."""
    for folder in font_folders():
        regular, bold = folder / REGULAR, folder / BOLD
        if regular.is_file() and bold.is_file():
            return FontFiles(regular, bold)
    where = ", ".join(str(f) for f in font_folders()[:2])
    raise FontMissingError(
        f"The report font ({REGULAR}, {BOLD}) was not found (looked in {where} and the system font "
        "folders). Reinstall the application, or set BANKNOTE_GUARD_ASSETS to the folder holding fonts/."
    )
