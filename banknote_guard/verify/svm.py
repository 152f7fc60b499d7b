"""One-vs-rest soft-margin SVMs on embeddings, with probabilities, stored without pickle.

One binary :class:`sklearn.svm.SVC` per denomination ("this denomination" vs "any other") is fitted
with balanced class weights. Probabilities come from Platt scaling fitted here on the SVM's decision
values of the training embeddings, with Platt's smoothed targets, so that it also works for a class of
a single image (scikit-learn's own ``probability=True`` needs several per class for its internal
cross-validation). After fitting, everything needed to predict is exported as plain arrays (support
vectors, dual coefficients, intercepts, Platt A/B) plus JSON (kernel parameters); prediction always runs
through this module's numpy kernels, so a loaded model predicts exactly what the fitted one did.

A gallery of a single denomination has no negatives: no SVM can be fitted. Then ``single_class_`` is
True and the probability comes from the distance to that class's centroid instead:
``p = 1 / (1 + exp(4 * (d / spread - 3)))`` (about 1 near the centroid, 0.5 at three spreads).
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from banknote_guard.errors import NotFittedError, parameter_error

log = logging.getLogger(__name__)

KERNELS = ("linear", "rbf", "poly", "sigmoid")


def kernel_matrix(
    kernel: str, x: np.ndarray, sv: np.ndarray, *, gamma: float, degree: int, coef0: float
) -> np.ndarray:
    """The (N, S) kernel matrix K(x_n, sv_s), computed as libsvm does."""
    x = np.asarray(x, dtype=np.float64)
    sv = np.asarray(sv, dtype=np.float64)
    if kernel == "linear":
        return x @ sv.T
    if kernel == "rbf":
        d = (x * x).sum(1)[:, None] + (sv * sv).sum(1)[None, :] - 2.0 * (x @ sv.T)
        return np.exp(-gamma * np.maximum(d, 0.0))
    if kernel == "poly":
        return (gamma * (x @ sv.T) + coef0) ** degree
    if kernel == "sigmoid":
        return np.tanh(gamma * (x @ sv.T) + coef0)
    raise parameter_error("kernel", "OneVsRestSVM", f"one of {KERNELS}", kernel)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_platt(decision: np.ndarray, positive: np.ndarray, max_iter: int = 100) -> tuple[float, float]:
    """Platt's sigmoid ``P(y=1|f) = 1 / (1 + exp(A f + B))`` by Newton's method (Lin, Lin & Weng 2007).

    Args:
        decision: decision values f.
        positive: boolean, True for the positive class.

    Returns:
        (A, B)
    """
    f = np.asarray(decision, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    t = np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    a, b = 0.0, float(np.log((n_neg + 1.0) / (n_pos + 1.0)))
    sigma, eps = 1e-12, 1e-5

    def objective(a_: float, b_: float) -> float:
        z = a_ * f + b_
        # -sum(t log p + (1 - t) log(1 - p)), p = 1 / (1 + exp(z)), in a stable form.
        return float(np.sum(t * z + np.logaddexp(0.0, -z)))

    fval = objective(a, b)
    for _ in range(max_iter):
        p = _sigmoid(-(a * f + b))
        q = 1.0 - p
        d2 = p * q
        h11 = sigma + float(np.sum(f * f * d2))
        h22 = sigma + float(np.sum(d2))
        h21 = float(np.sum(f * d2))
        d1 = t - p
        g1 = float(np.sum(f * d1))
        g2 = float(np.sum(d1))
        if abs(g1) < eps and abs(g2) < eps:
            break
        det = h11 * h22 - h21 * h21
        da = -(h22 * g1 - h21 * g2) / det
        db = -(-h21 * g1 + h11 * g2) / det
        gd = g1 * da + g2 * db
        step = 1.0
        while step >= 1e-10:
            na, nb = a + step * da, b + step * db
            nf = objective(na, nb)
            if nf < fval + 1e-4 * step * gd:
                a, b, fval = na, nb, nf
                break
            step /= 2.0
        else:
            break
    return a, b


class OneVsRestSVM:
    """One soft-margin SVM per denomination, one-vs-rest, with Platt probabilities.

    Args:
        kernel: "rbf" (default), "linear", "poly" or "sigmoid".
        C: soft-margin penalty (> 0).
        gamma: kernel coefficient: "scale" (1 / (D * X.var())), "auto" (1 / D) or a positive float.
        degree: degree of the polynomial kernel.
        coef0: independent term of the polynomial and sigmoid kernels.

    Attributes (after :meth:`fit`):
        classes_: denomination ids, one SVM each.
        gamma_: the resolved kernel coefficient.
        single_class_: True when only one class was given (no SVM; probability from distance).
        machines_: per class a dict of arrays: ``support_vectors`` (S, D), ``dual_coef`` (S,),
            ``intercept`` (), ``platt`` (2,) = (A, B).
    """

    def __init__(
        self, kernel: str = "rbf", C: float = 1.0, gamma: str | float = "scale", degree: int = 3, coef0: float = 0.0
    ) -> None:
        self.kernel = kernel
        self.C = C
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0

    def _validate(self) -> None:
        if self.kernel not in KERNELS:
            raise parameter_error("kernel", "OneVsRestSVM", f"one of {KERNELS}", self.kernel)
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise parameter_error("C", "OneVsRestSVM", "a float in (0, inf)", self.C)
        if isinstance(self.gamma, str):
            if self.gamma not in ("scale", "auto"):
                raise parameter_error("gamma", "OneVsRestSVM", "'scale', 'auto' or a float in (0, inf)", self.gamma)
        elif not self.gamma > 0:
            raise parameter_error("gamma", "OneVsRestSVM", "'scale', 'auto' or a float in (0, inf)", self.gamma)
        if not (isinstance(self.degree, int) and self.degree >= 1):
            raise parameter_error("degree", "OneVsRestSVM", "an int >= 1", self.degree)

    def fit(
        self,
        embeddings: np.ndarray,
        denom_ids: Sequence[str],
        *,
        centroids: np.ndarray | None = None,
        spreads: np.ndarray | None = None,
        distance: str = "sqeuclidean",
    ) -> "OneVsRestSVM":
        """Fit one SVM per denomination.

        Args:
            embeddings: (N, D) genuine embeddings.
            denom_ids: N denomination ids.
            centroids, spreads, distance: used only for a single-class gallery (probability from
                distance); default: computed from ``embeddings``.

        Returns:
            self
        """
        from sklearn.svm import SVC

        from banknote_guard.verify.gallery import pairwise_distances

        self._validate()
        x = np.asarray(embeddings, dtype=np.float64)
        labels = np.asarray([str(c) for c in denom_ids])
        if x.ndim != 2 or len(x) == 0 or len(labels) != len(x):
            raise parameter_error("embeddings", "OneVsRestSVM.fit", "a non-empty (N, D) array with N ids", x.shape)
        self.classes_: list[str] = sorted(set(labels.tolist()))
        self.n_features_in_ = int(x.shape[1])
        if isinstance(self.gamma, str):
            var = float(x.var())
            self.gamma_ = 1.0 / (x.shape[1] * var) if self.gamma == "scale" and var > 0 else 1.0 / x.shape[1]
        else:
            self.gamma_ = float(self.gamma)
        self.machines_: list[dict[str, np.ndarray]] = []
        self.single_class_ = len(self.classes_) == 1
        if self.single_class_:
            log.warning(
                "Only one denomination (%s): no negatives for an SVM; its probability comes from the "
                "distance to its centroid instead.", self.classes_[0]
            )
            c = x.mean(0) if centroids is None else np.asarray(centroids, dtype=np.float64)[0]
            if spreads is None:
                d = pairwise_distances(distance, x, c[None, :])[:, 0]
                s = max(float(np.median(d)), 1e-6)
            else:
                s = float(np.asarray(spreads)[0])
            self.single_centroid_ = c.astype(np.float32)
            self.single_spread_ = s
            self.single_distance_ = distance
            return self
        for c in self.classes_:
            y = (labels == c).astype(int)
            svc = SVC(
                kernel=self.kernel, C=float(self.C), gamma=self.gamma_, degree=self.degree,
                coef0=self.coef0, class_weight="balanced",
            )
            svc.fit(x, y)
            machine = {
                "support_vectors": svc.support_vectors_.astype(np.float64),
                "dual_coef": svc.dual_coef_[0].astype(np.float64),
                "intercept": np.asarray(svc.intercept_[0], dtype=np.float64),
            }
            f = self._decision(machine, x)
            if not np.allclose(f, svc.decision_function(x), atol=1e-6):  # pragma: no cover - a guard
                raise RuntimeError("numpy SVM kernel disagrees with scikit-learn; refusing to export it")
            a, b = fit_platt(f, y == 1)
            machine["platt"] = np.array([a, b], dtype=np.float64)
            self.machines_.append(machine)
        return self

    # --- prediction ------------------------------------------------------------------------------

    def _decision(self, machine: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        k = kernel_matrix(
            self.kernel, x, machine["support_vectors"], gamma=self.gamma_, degree=self.degree, coef0=self.coef0
        )
        return k @ machine["dual_coef"] + float(machine["intercept"])

    def decision_function(self, embeddings: np.ndarray) -> np.ndarray:
        """(N, C) signed decision values, positive = "this denomination"."""
        self._check_fitted()
        x = np.atleast_2d(np.asarray(embeddings, dtype=np.float64))
        if self.single_class_:
            from banknote_guard.verify.gallery import pairwise_distances

            d = pairwise_distances(self.single_distance_, x, self.single_centroid_[None, :])[:, 0]
            return (3.0 - d / self.single_spread_)[:, None]
        return np.stack([self._decision(m, x) for m in self.machines_], axis=1)

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """(N, C) one-vs-rest probabilities (each column on its own; rows need not sum to 1)."""
        f = self.decision_function(embeddings)
        if self.single_class_:
            return _sigmoid(4.0 * f)
        ab = np.stack([m["platt"] for m in self.machines_])  # (C, 2)
        return _sigmoid(-(f * ab[:, 0][None, :] + ab[:, 1][None, :]))

    def predict(self, embeddings: np.ndarray) -> list[str]:
        """Most likely denomination of each embedding."""
        p = self.predict_proba(embeddings)
        return [self.classes_[i] for i in np.argmax(p, axis=1)]

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise NotFittedError("This OneVsRestSVM is not fitted yet. Call 'fit' with embeddings first.")

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "classes_")

    # --- storage ---------------------------------------------------------------------------------

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Plain arrays and JSON-able settings of the fitted SVMs (for the model file; no pickle)."""
        self._check_fitted()
        meta: dict[str, Any] = {
            "kernel": self.kernel, "C": float(self.C), "gamma": self.gamma, "gamma_": float(self.gamma_),
            "degree": int(self.degree), "coef0": float(self.coef0), "classes": list(self.classes_),
            "single_class": bool(self.single_class_), "n_features_in": int(self.n_features_in_),
        }
        arrays: dict[str, np.ndarray] = {}
        if self.single_class_:
            arrays["single.centroid"] = self.single_centroid_.astype(np.float32)
            meta["single_spread"] = float(self.single_spread_)
            meta["single_distance"] = self.single_distance_
        for i, m in enumerate(self.machines_):
            for key, value in m.items():
                arrays[f"{i}.{key}"] = np.asarray(value, dtype=np.float64).reshape(
                    value.shape if np.ndim(value) else (1,)
                )
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> "OneVsRestSVM":
        """Rebuild from :meth:`to_arrays` output."""
        svm = cls(
            kernel=str(meta["kernel"]), C=float(meta["C"]), gamma=meta["gamma"], degree=int(meta["degree"]),
            coef0=float(meta["coef0"]),
        )
        if svm.kernel not in KERNELS:
            raise ValueError(f"unknown SVM kernel {svm.kernel!r}")
        svm.classes_ = [str(c) for c in meta["classes"]]
        svm.gamma_ = float(meta["gamma_"])
        svm.n_features_in_ = int(meta["n_features_in"])
        svm.single_class_ = bool(meta["single_class"])
        svm.machines_ = []
        if svm.single_class_:
            svm.single_centroid_ = np.asarray(arrays["single.centroid"], dtype=np.float32)
            svm.single_spread_ = float(meta["single_spread"])
            svm.single_distance_ = str(meta["single_distance"])
            return svm
        for i in range(len(svm.classes_)):
            svm.machines_.append(
                {
                    "support_vectors": np.asarray(arrays[f"{i}.support_vectors"], dtype=np.float64),
                    "dual_coef": np.asarray(arrays[f"{i}.dual_coef"], dtype=np.float64).reshape(-1),
                    "intercept": np.asarray(arrays[f"{i}.intercept"], dtype=np.float64).reshape(()),
                    "platt": np.asarray(arrays[f"{i}.platt"], dtype=np.float64).reshape(2),
                }
            )
        return svm
