"""PNG figures of an evaluation: ROC curves, a 2-D map of embeddings, score histograms, confusion matrix.

Everything draws with matplotlib's Agg backend (no display, no Qt) and writes files atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from banknote_guard.evaluation import metrics
from banknote_guard.fileio import atomic_path

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["pca_2d", "plot_roc", "plot_embeddings", "plot_scores", "plot_confusion"]

#: Operating points marked on ROC plots (false-alarm rates).
MARKED_FARS: tuple[float, ...] = (0.01, 0.001)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: "Figure", path: str | Path) -> Path:
    path = Path(path)
    plt = _pyplot()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def pca_2d(points: np.ndarray, *extra: np.ndarray) -> tuple[np.ndarray, ...]:
    """Project ``points`` (n, d) onto their first two principal components (numpy SVD).

    Args:
        points: the rows that define the projection.
        *extra: further arrays (m, d) projected with the same axes (e.g. centroids).

    Returns:
        The projected ``points`` (n, 2) followed by each projected ``extra`` array (m, 2). With fewer
        than two dimensions of variation the missing axis is zero.
    """
    x = np.asarray(points, dtype=np.float64)
    mean = x.mean(axis=0) if x.size else np.zeros(x.shape[1] if x.ndim == 2 else 0)
    centred = x - mean
    if centred.shape[0] >= 2:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        axes = vt[:2]
    else:
        axes = np.eye(2, x.shape[1]) if x.ndim == 2 and x.shape[1] else np.zeros((2, 0))
    if axes.shape[0] < 2:
        axes = np.vstack([axes, np.zeros((2 - axes.shape[0], axes.shape[1]))])
    # A deterministic sign: the largest loading of each axis is positive.
    signs = np.sign(axes[np.arange(2), np.argmax(np.abs(axes), axis=1)]) if axes.size else np.ones(2)
    signs[signs == 0] = 1.0
    axes = axes * signs[:, None]
    out = [centred @ axes.T]
    for e in extra:
        e = np.asarray(e, dtype=np.float64).reshape(-1, x.shape[1])
        out.append((e - mean) @ axes.T)
    return tuple(out)


def plot_roc(
    curves: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    path: str | Path,
    *,
    title: str = "Counterfeit detection",
    operating_points: Mapping[str, tuple[float, float]] | None = None,
) -> Path:
    """Draw ROC curves side by side on a linear and a logarithmic false-alarm axis.

    Args:
        curves: curve name -> ``(labels, scores)`` (1 = counterfeit, higher score = more suspicious).
            Curves with only one class are skipped.
        path: the PNG file to write.
        title: figure title.
        operating_points: name -> ``(false_alarm_rate, catch_rate)`` marked with a dot (e.g. the
            model's own thresholds).

    Returns:
        ``path``.
    """
    plt = _pyplot()
    fig, (ax_lin, ax_log) = plt.subplots(1, 2, figsize=(11, 4.8))
    colours = plt.get_cmap("tab10")
    drawn = 0
    for i, (name, (labels, scores)) in enumerate(curves.items()):
        fpr, tpr, _ = metrics.roc_curve(labels, scores)
        if np.isnan(fpr).any() or np.isnan(tpr).any():
            continue
        auc = metrics.roc_auc(labels, scores)
        n_neg = int(np.sum(np.asarray(labels) == 0))
        label = f"{name} (AUC {auc:.4f})"
        colour = colours(i % 10)
        ax_lin.plot(fpr, tpr, color=colour, lw=1.8, label=label)
        # On a log axis a zero false-alarm rate cannot be drawn: start at half of one false alarm.
        floor = 0.5 / max(n_neg, 1)
        ax_log.plot(np.maximum(fpr, floor), tpr, color=colour, lw=1.8, label=label)
        drawn += 1
    for far in MARKED_FARS:
        ax_log.axvline(far, color="0.6", ls="--", lw=0.9)
    for ax in (ax_lin, ax_log):
        if operating_points:
            for j, (name, (far, catch)) in enumerate(operating_points.items()):
                ax.plot(
                    [max(far, 1e-4)], [catch], marker="o", ms=8, mfc="none", mew=2, color="black", ls="none",
                    label=f"{name}: {100 * catch:.1f}% caught at {100 * far:.2f}% false alarms" if ax is ax_lin else None,
                )
        ax.set_ylabel("Counterfeits caught (true positive rate)")
        ax.grid(True, alpha=0.3)
        ax.set_ylim(-0.02, 1.02)
    ax_lin.plot([0, 1], [0, 1], color="0.8", lw=1, ls=":")
    ax_lin.set_xlim(-0.02, 1.02)
    ax_lin.set_xlabel("Genuine notes flagged (false-alarm rate)")
    ax_lin.set_title("ROC")
    ax_log.set_xscale("log")
    ax_log.set_xlim(1e-4, 1.0)
    ax_log.set_xlabel("False-alarm rate (log scale; dashed: 1% and 0.1%)")
    ax_log.set_title("ROC, low false-alarm region")
    if drawn:
        ax_lin.legend(loc="lower right", fontsize=8)
    else:
        ax_lin.text(0.5, 0.5, "no counterfeits and genuine notes to compare", ha="center", va="center")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_embeddings(
    points: np.ndarray,
    denominations: Sequence[str],
    counterfeit: Sequence[bool],
    path: str | Path,
    *,
    centroids: Mapping[str, np.ndarray] | None = None,
    highlight: Sequence[str] = (),
    title: str = "Embeddings (PCA to 2-D)",
) -> Path:
    """A 2-D map of note embeddings with their denominations' centroids.

    Genuine notes are dots, counterfeits crosses, both coloured by denomination; each centroid is a
    large marker labelled with its denomination id. The projection is PCA fitted on ``points``.

    Args:
        points: (n, d) embeddings.
        denominations: the true denomination id of each row.
        counterfeit: whether each row is a counterfeit.
        path: the PNG file to write.
        centroids: denomination id -> its (d,) centroid, or (k, d) prototypes (e.g. front and back),
            each drawn as a large marker labelled with the id.
        highlight: denomination ids to mark as enrolled (never trained on): their labels get a star.
        title: figure title.

    Returns:
        ``path``.
    """
    plt = _pyplot()
    points = np.asarray(points, dtype=np.float64)
    denominations = list(denominations)
    counterfeit_arr = np.asarray(counterfeit, dtype=bool)
    from banknote_guard.data.records import denomination_sort_key

    centroids = dict(centroids or {})
    names = sorted(set(denominations) | set(centroids), key=denomination_sort_key)
    fig, ax = plt.subplots(figsize=(9.5, 7.5))
    if points.ndim != 2 or points.shape[0] == 0:
        ax.text(0.5, 0.5, "no embeddings to show", ha="center", va="center")
        return _save(fig, path)
    c_names: list[str] = []
    c_rows: list[np.ndarray] = []
    for n in names:
        if n in centroids:
            for row in np.asarray(centroids[n], dtype=np.float64).reshape(-1, points.shape[1]):
                c_names.append(n)
                c_rows.append(row)
    c_mat = np.array(c_rows).reshape(len(c_rows), points.shape[1])
    xy, c_xy = pca_2d(points, c_mat)
    cmap = plt.get_cmap("tab20" if len(names) > 10 else "tab10")
    colour_of = {n: cmap(i % cmap.N) for i, n in enumerate(names)}
    den_arr = np.array(denominations, dtype=object)
    for n in names:
        sel = den_arr == n
        g = sel & ~counterfeit_arr
        c = sel & counterfeit_arr
        if g.any():
            ax.scatter(xy[g, 0], xy[g, 1], s=16, color=colour_of[n], alpha=0.6, marker="o", linewidths=0)
        if c.any():
            ax.scatter(xy[c, 0], xy[c, 1], s=30, color=colour_of[n], alpha=0.9, marker="x", linewidths=1.2)
    highlight_set = set(highlight)
    for n, (cx, cy) in zip(c_names, c_xy):
        ax.scatter([cx], [cy], s=260, color=colour_of[n], marker="P" if n in highlight_set else "o",
                   edgecolors="black", linewidths=1.5, zorder=5)
        label = f"{n}*" if n in highlight_set else n
        ax.annotate(label, (cx, cy), xytext=(7, 7), textcoords="offset points", fontsize=9, fontweight="bold",
                    zorder=6, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.5", "alpha": 0.85})
    # Legend: what the marker shapes mean, then one colour swatch per denomination.
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], ls="none", marker="o", color="0.4", ms=5, label="genuine note"),
        Line2D([], [], ls="none", marker="x", color="0.4", ms=7, mew=1.5, label="counterfeit"),
        Line2D([], [], ls="none", marker="o", color="0.7", mec="black", ms=12,
               label="centre of genuine notes (trained)"),
    ]
    if highlight_set:
        handles.append(Line2D([], [], ls="none", marker="P", color="0.7", mec="black", ms=12,
                              label="centre (* enrolled, never trained on)"))
    handles += [Line2D([], [], ls="none", marker="s", color=colour_of[n], ms=8, label=n) for n in names]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.set_title(title)
    ax.grid(True, alpha=0.25)
    fig.tight_layout()
    return _save(fig, path)


def plot_scores(
    genuine_scores: Sequence[float],
    counterfeit_scores: Sequence[float],
    path: str | Path,
    *,
    thresholds: Mapping[str, float] | None = None,
    title: str = "Counterfeit scores",
) -> Path:
    """Histograms of the counterfeit score of genuine notes and of counterfeits, with thresholds.

    Args:
        genuine_scores: scores of genuine notes.
        counterfeit_scores: scores of counterfeits.
        path: the PNG file to write.
        thresholds: name -> score drawn as a vertical line.
        title: figure title.

    Returns:
        ``path``.
    """
    plt = _pyplot()
    g = np.asarray(genuine_scores, dtype=np.float64)
    c = np.asarray(counterfeit_scores, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    both = np.concatenate([g, c])
    if both.size:
        hi = np.percentile(both, 99.5)
        lo = min(0.0, float(both.min()))
        bins = np.linspace(lo, max(hi, lo + 1e-6), 60)
        if g.size:
            ax.hist(np.clip(g, lo, hi), bins=bins, alpha=0.6, color="tab:green", label=f"genuine ({g.size})")
        if c.size:
            ax.hist(np.clip(c, lo, hi), bins=bins, alpha=0.6, color="tab:red", label=f"counterfeit ({c.size})")
    for i, (name, value) in enumerate((thresholds or {}).items()):
        ax.axvline(value, color=("black", "0.4", "0.6")[i % 3], ls=("-", "--", ":")[i % 3], lw=1.3, label=name)
    ax.set_xlabel("counterfeit score (higher = more suspicious; right edge holds the top 0.5%)")
    ax.set_ylabel("notes")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.25)
    fig.tight_layout()
    return _save(fig, path)


def plot_confusion(matrix: np.ndarray, labels: Sequence[str], path: str | Path, *, title: str = "Denominations") -> Path:
    """A confusion matrix as a heat map with counts (rows: true, columns: predicted).

    Args:
        matrix: (n, m) counts; m may be n + 1 for a trailing "unknown" column.
        labels: row labels; column labels are these plus "unknown" when the matrix has one more column.
        path: the PNG file to write.
        title: figure title.

    Returns:
        ``path``.
    """
    plt = _pyplot()
    m = np.asarray(matrix)
    rows = list(labels)
    cols = list(labels) + (["unknown"] if m.shape[1] == len(rows) + 1 else [])
    size = max(4.0, 0.5 * len(cols) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    row_sums = np.maximum(m.sum(axis=1, keepdims=True), 1)
    ax.imshow(m / row_sums, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j]:
                share = m[i, j] / row_sums[i, 0]
                ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if share > 0.6 else "black")
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xlabel("predicted denomination")
    ax.set_ylabel("true denomination")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)
