"""Value totals, threshold scale and the batch summary line."""

from __future__ import annotations

import pytest

from banknote_guard.gui.results import apply_threshold_scale, denomination_value, summarise
from banknote_guard.verify.result import VerificationResult

pytestmark = pytest.mark.gui


def _r(denom: str | None, verdict: str | None, score: float = 1.0, status: str = "ok") -> VerificationResult:
    return VerificationResult(path="x.png", status=status, denomination=denom, verdict=verdict,  # type: ignore[arg-type]
                              counterfeit_score=score, threshold=2.0)


@pytest.mark.parametrize(
    ("denom", "expected"),
    [("KRT/20", ("KRT", 20.0)), ("EUR/20_2019", ("EUR", 20.0)), ("USD/0,50", ("USD", 0.5)), ("X/ten", None), (None, None)],
)
def test_denomination_value(denom: str | None, expected: tuple[str, float] | None) -> None:
    assert denomination_value(denom) == expected


def test_threshold_scale_moves_only_genuine_and_suspect() -> None:
    genuine = _r("KRT/20", "genuine", score=1.8)
    assert apply_threshold_scale(genuine, 1.0) is genuine
    stricter = apply_threshold_scale(genuine, 0.8)
    assert stricter.verdict == "suspect" and stricter.threshold == pytest.approx(1.6)
    assert genuine.verdict == "genuine"  # the original is untouched
    assert apply_threshold_scale(_r("KRT/20", "suspect", score=2.5), 1.5).verdict == "genuine"
    assert apply_threshold_scale(_r("KRT/20", "unknown", score=9), 2.0).verdict == "unknown"
    err = VerificationResult.failed("bad.png", "damaged")
    assert apply_threshold_scale(err, 0.5) is err


def test_summary_counts_and_values_per_currency() -> None:
    results = [
        _r("KRT/20", "genuine"), _r("KRT/20", "genuine"), _r("KRT/5", "genuine"), _r("VLM/10", "genuine"),
        _r("KRT/20", "suspect", 3.0), _r("KRT/5", "unknown", 9.0), VerificationResult.failed("b.png", "damaged"),
    ]
    s = summarise(results)
    assert s.total == 7
    assert dict(s.verdicts) == {"genuine": 4, "suspect": 1, "unknown": 1, "error": 1}
    assert dict(s.genuine_value) == {"KRT": 45.0, "VLM": 10.0}
    assert dict(s.suspect_value) == {"KRT": 20.0}
    assert s.per_denomination["KRT/20"]["genuine"] == 2 and s.per_denomination["KRT/20"]["suspect"] == 1
    text = s.text()
    assert text.startswith("7 images: 4 genuine, 1 suspect, 1 unknown, 1 error")
    assert "Genuine value: 45 KRT, 10 VLM" in text and "Suspect value: 20 KRT" in text
    assert summarise([]).text() == "No notes verified yet."
