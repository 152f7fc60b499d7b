"""Find a banknote in a scan or photo and warp it to an upright, landscape rectangle.

The detector works on a small copy of the picture (longer side :data:`WORK_SIDE` pixels). It builds
foreground masks one after another, cheapest first (colour distance from the background seen along
the picture's border; edges closed into regions; the raw edge map; Otsu on colourfulness, both ways
round; edges of colour alone, blind to wood grain, stripes and shadows), and turns the largest
contours of each into candidate quadrilaterals: the polygon approximation of the hull with its sides
refitted to the contour, and quadrilaterals made of the contour's dominant straight lines (RANSAC;
robust to clutter stuck to the note). A candidate scores by its shape (right angles, banknote aspect
1.6-2.6, size) times its support in the picture (each side lies on edges and separates two different
colours along all its length; its inside is foreground). The search stops early once a candidate
scores :data:`EARLY_EXIT_SCORE`. On a plain background (a scanner lid) everything clearly unlike the
border is the note, and a clean quadrilateral region found that way is taken directly: this finds
pale notes on pale lids by the paper's edge rather than by a printed line inside the note. The
winner, unless it scored :data:`EARLY_EXIT_SCORE`, has each side tried at the other straight colour
changes roughly parallel to it (clutter or a shadow touching the note pulls a side out; a printed
line pulls one in), keeping moves that raise the score and whose strip given up or taken in looks
like the outside or the note respectively. Its sides are then snapped onto the paper's edge and,
where a side stops at a line printed inside the note, pushed out to the paper's edge. Each side is
finally refitted, to a fraction of a pixel, to the strongest colour step across it in the
full-resolution picture. The note is warped from the full-resolution picture with
:func:`cv2.warpPerspective`.

The package's modules, each owning one job: ``warp`` (the entry point :func:`rectify_note`, from capture
to upright note), ``detect`` (the search over masks and the choice of the outline), ``masks`` (colour
space, background colour and the foreground masks), ``candidates`` (contours to quadrilaterals),
``scoring`` (shape and support of an outline), ``side_search`` (moving single sides of an unsure
outline), ``paper_edge`` (snapping and pushing sides onto the paper's edge), ``refine`` (sub-pixel
refinement on the full-resolution picture) and ``geometry`` (corners, sides, lines, pixel look-ups).
``scenes`` draws real-looking captures with known corners for measuring the detector (a photo of a real
note pasted under perspective onto a generated table among clutter, fingers, shadows and glare); the
detector does not use it.
"""

from banknote_guard.data.rectify.detect import EARLY_EXIT_SCORE, MAX_CONTOURS, MIN_SCORE, STRIP_HOLDER_SCORE
from banknote_guard.data.rectify.geometry import order_corners
from banknote_guard.data.rectify.masks import UNIFORM_BORDER_SPREAD
from banknote_guard.data.rectify.scoring import NOTE_ASPECT_RANGE
from banknote_guard.data.rectify.side_search import STRIP_FAR
from banknote_guard.data.rectify.warp import WORK_SIDE, RectifiedNote, rectify_note

__all__ = [
    "EARLY_EXIT_SCORE",
    "MAX_CONTOURS",
    "MIN_SCORE",
    "NOTE_ASPECT_RANGE",
    "STRIP_FAR",
    "STRIP_HOLDER_SCORE",
    "UNIFORM_BORDER_SPREAD",
    "WORK_SIDE",
    "RectifiedNote",
    "order_corners",
    "rectify_note",
]
