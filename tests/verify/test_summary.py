"""Value totals, the threshold scale (the verdict rule) and the batch summary line."""

from __future__ import annotations

import numpy as np
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


def test_a_note_whose_denomination_is_not_clear_is_never_genuine() -> None:
    from banknote_guard.verify.calibration import DEFAULT_MARGIN, ambiguity, calibrate_margin

    assert judge(1.0, 2.0, 10.0, ambiguity=0.95, margin_threshold=0.9) == "uncertain"
    assert judge(1.0, 2.0, 10.0, ambiguity=0.5, margin_threshold=0.9) == "genuine"
    assert judge(3.0, 2.0, 10.0, ambiguity=0.95, margin_threshold=0.9) == "suspect"  # evidence wins
    assert judge(1.0, 2.0, 10.0, ambiguity=float("nan"), margin_threshold=0.9) != "genuine"
    # the threshold scale can never turn an unclear note into a genuine one
    unclear = VerificationResult(path="x", denomination="KRT/20", verdict="suspect", counterfeit_score=2.5,
                                 threshold=2.0, denomination_unclear=True)
    assert rejudge(unclear, 2.0).verdict == "uncertain"
    # ambiguity: nearest / next nearest
    np.testing.assert_allclose(ambiguity(np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 1.0]])), [0.5, 1 / 3])
    assert ambiguity(np.array([[1.0], [2.0]])).tolist() == [0.0, 0.0]
    # margin: a quantile of held-out genuine ambiguities, bounded; default with few notes; none for one class
    rng = np.random.default_rng(0)
    m, method = calibrate_margin(rng.uniform(0.1, 0.95, 500), 3)
    assert method == "quantile" and 0.93 <= m <= 0.98
    assert calibrate_margin(np.full(500, 0.2), 3) == (DEFAULT_MARGIN, "quantile")
    assert calibrate_margin(np.full(5, 0.2), 3) == (DEFAULT_MARGIN, "default")
    assert calibrate_margin(np.full(500, 0.2), 1)[1] == "none"


def test_scoring_says_which_denominations_are_confused(tiny_bundle) -> None:
    from banknote_guard.verify.verifier import score_embeddings

    c = tiny_bundle.gallery.centroids_
    halfway = (c[0] + c[1]) / 2
    res = score_embeddings(tiny_bundle, np.stack([c[0], halfway]).astype(np.float32), ["a", "b"])
    assert not res[0].denomination_unclear
    assert res[1].denomination_unclear and res[1].verdict != "genuine"
    assert any("nearly equally close" in r for r in res[1].reasons)
    assert res[1].to_json()["denomination_unclear"] is True


def test_totals_never_add_a_value_that_is_not_certain() -> None:
    results = [
        _r("KRT/20", "genuine"),
        _r("KRT/50", "uncertain"),
        _r("KRT/100", "retake"),
        VerificationResult(path="x", denomination="KRT/10", verdict="suspect", counterfeit_score=3.0, threshold=2.0,
                           denomination_unclear=True),
        _r("KRT/5", "suspect", score=3.0),
    ]
    s = summarise(results)
    assert s.genuine_value == {"KRT": 20.0} and s.suspect_value == {"KRT": 5.0}
    assert "KRT/100" not in s.per_denomination
    assert "1 uncertain" in s.text() and "1 retake" in s.text()
