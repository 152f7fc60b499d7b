"""Value totals, the threshold scale (the verdict rule) and the batch summary line."""

from __future__ import annotations

import pytest

from banknote_guard.verify.result import VerificationResult
from banknote_guard.verify.summary import denomination_value, summarise
from banknote_guard.verify.verdict import judge, rejudge


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
    assert rejudge(genuine, 1.0) is genuine
    stricter = rejudge(genuine, 0.8)
    assert stricter.verdict == "suspect" and stricter.threshold == pytest.approx(1.6)
    assert genuine.verdict == "genuine"  # the original is untouched
    assert rejudge(_r("KRT/20", "suspect", score=2.5), 1.5).verdict == "genuine"
    assert rejudge(_r("KRT/20", "unknown", score=9), 2.0).verdict == "unknown"
    err = VerificationResult.failed("bad.png", "damaged")
    assert rejudge(err, 0.5) is err
    # scales do not compound: back to 1.0 gives the calibrated threshold again
    assert rejudge(stricter, 1.0).threshold == pytest.approx(2.0)
    assert rejudge(stricter, 1.0).verdict == "genuine"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_the_verdict_rule_fails_closed_on_non_finite_numbers(bad: float) -> None:
    # a non-finite score, threshold or unknown threshold never gives "genuine"
    assert judge(bad, 2.0, 10.0) != "genuine"
    assert judge(1.0, bad, 10.0) != "genuine"
    assert judge(1.0, 2.0, 10.0, threshold_scale=bad) != "genuine"
    assert judge(1.0, 2.0, float("nan")) != "genuine"
    assert judge(1.0, 2.0, 10.0) == "genuine"
    assert rejudge(_r("KRT/20", "genuine", score=bad), 0.9).verdict == "suspect"


def test_the_rule_itself() -> None:
    assert judge(1.0, 2.0, 10.0) == "genuine"
    assert judge(2.0, 2.0, 10.0) == "genuine"  # at the threshold: genuine, as calibrated
    assert judge(2.1, 2.0, 10.0) == "suspect"
    assert judge(11.0, 2.0, 10.0) == "unknown"
    assert judge(2.1, 2.0, 10.0, threshold_scale=1.1) == "genuine"
    # no outline found and beyond every known note (10 / 1.5): not a note
    assert judge(7.0, 2.0, 10.0, note_found=False) == "unknown"
    assert judge(5.0, 2.0, 10.0, note_found=False) == "suspect"


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
