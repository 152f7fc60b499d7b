from __future__ import annotations

import numpy as np
import pytest
from sklearn.svm import SVC

from banknote_guard.errors import NotFittedError, ParameterError
from banknote_guard.verify.svm import KERNELS, OneVsRestSVM, fit_platt, kernel_matrix


@pytest.mark.parametrize("kernel", KERNELS)
def test_numpy_kernels_match_sklearn(kernel: str, blobs) -> None:
    x, ids, _ = blobs
    y = np.array([i == "CUR/1" for i in ids]).astype(int)
    svc = SVC(kernel=kernel, gamma=0.7, degree=3, coef0=0.5, class_weight="balanced").fit(x, y)
    k = kernel_matrix(kernel, x, svc.support_vectors_, gamma=0.7, degree=3, coef0=0.5)
    ours = k @ svc.dual_coef_[0] + svc.intercept_[0]
    np.testing.assert_allclose(ours, svc.decision_function(x), atol=1e-6)


@pytest.mark.parametrize("kernel", KERNELS)
def test_fit_predicts_classes_and_survives_a_round_trip(kernel: str, blobs) -> None:
    x, ids, _ = blobs
    svm = OneVsRestSVM(kernel=kernel)
    assert svm.fit(x, ids) is svm
    proba = svm.predict_proba(x)
    assert proba.shape == (len(x), 4)
    assert np.all((proba >= 0) & (proba <= 1))
    if kernel != "sigmoid":  # the sigmoid kernel is not positive definite; it may be poor on blobs
        assert np.mean(np.array(svm.predict(x)) == np.array(ids)) > 0.95
    # Same decision values as scikit-learn's SVC for every machine.
    for i, c in enumerate(svm.classes_):
        y = np.array([d == c for d in ids]).astype(int)
        svc = SVC(kernel=kernel, gamma=svm.gamma_, class_weight="balanced").fit(x, y)
        np.testing.assert_allclose(svm.decision_function(x)[:, i], svc.decision_function(x), atol=1e-6)
    arrays, meta = svm.to_arrays()
    loaded = OneVsRestSVM.from_arrays(arrays, meta)
    np.testing.assert_array_equal(loaded.predict_proba(x), proba)


def test_platt_matches_a_direct_minimisation() -> None:
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    f = np.concatenate([rng.normal(1, 1, 50), rng.normal(-1, 1, 80)])
    y = np.r_[np.ones(50, bool), np.zeros(80, bool)]
    a, b = fit_platt(f, y)
    t = np.where(y, 51 / 52, 1 / 82)

    def nll(p: np.ndarray) -> float:
        z = p[0] * f + p[1]
        return float(np.sum(t * z + np.logaddexp(0, -z)))

    ref = minimize(nll, [0.0, 0.0]).x
    assert a == pytest.approx(ref[0], abs=1e-3) and b == pytest.approx(ref[1], abs=1e-3)
    assert a < 0  # higher decision value -> higher probability


def test_class_of_one_sample_is_handled(blobs) -> None:
    x, ids, _ = blobs
    x1 = np.concatenate([x, x[:1] * -1])
    svm = OneVsRestSVM().fit(x1, ids + ["NEW/1"])
    p = svm.predict_proba(x1[-1:])[0]
    assert svm.classes_[int(np.argmax(p))] == "NEW/1"


def test_single_class_gallery_uses_distance(blobs, caplog) -> None:
    x, ids, _ = blobs
    svm = OneVsRestSVM().fit(x[:40], ids[:40])
    assert svm.single_class_
    assert "no negatives" in caplog.text
    near, far = svm.predict_proba(x[:5]), svm.predict_proba(-x[:5])
    assert np.all(near > 0.9) and np.all(far < 0.1)
    loaded = OneVsRestSVM.from_arrays(*svm.to_arrays())
    np.testing.assert_array_equal(loaded.predict_proba(x[:5]), near)


def test_errors() -> None:
    with pytest.raises(NotFittedError):
        OneVsRestSVM().predict_proba(np.zeros((1, 2)))
    with pytest.raises(ParameterError, match="'kernel' parameter of OneVsRestSVM"):
        OneVsRestSVM(kernel="cubic").fit(np.zeros((2, 2)), ["a", "b"])
    with pytest.raises(ParameterError, match="'C'"):
        OneVsRestSVM(C=0).fit(np.zeros((2, 2)), ["a", "b"])
