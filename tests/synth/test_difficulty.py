"""The data must not be trivially separable: a pixel nearest-centroid baseline stays far from perfect."""

from __future__ import annotations

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score

from banknote_guard.synth.generator import METHODS, make_note_image


def _auc(difficulty: str, n: int = 14) -> float:
    feats, labels = [], []
    for label in ("genuine", "counterfeit"):
        for i in range(n):
            seed = 1000 + i + (500 if label == "counterfeit" else 0)
            method = METHODS[i % len(METHODS)] if label == "counterfeit" else ""
            img, corners = make_note_image("KRT", "20", "front", label=label, method=method, seed=seed,
                                           kind="scan" if i % 2 else "photo", width=160, difficulty=difficulty)
            dst = np.array([[0, 0], [64, 0], [64, 32], [0, 32]], np.float32)
            note = cv2.warpPerspective(img, cv2.getPerspectiveTransform(corners, dst), (64, 32))
            feats.append(note.astype(np.float32).ravel() / 255.0)
            labels.append(label == "counterfeit")
    x, y = np.array(feats), np.array(labels)
    fit = np.zeros(len(y), bool)
    fit[: n // 2] = True  # half of the genuine images make the centroid
    mu = x[fit].mean(0)
    score = np.linalg.norm(x - mu, axis=1)
    return float(roc_auc_score(y[~fit], score[~fit]))


def test_hard_is_far_from_separable_and_easy_is_easier() -> None:
    hard = _auc("hard")
    easy = _auc("easy")
    assert hard < 0.85, hard
    assert easy > hard, (easy, hard)
