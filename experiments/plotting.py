"""Plots that read at a glance: mean with a 95% band over seeds, log axes where rates
matter, dashed reference lines for the theoretical rate or lower bound."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.runner import mean_ci  # noqa: E402

COLORS = plt.get_cmap("tab10").colors + plt.get_cmap("Dark2").colors


def band(ax, x, samples, *, label: str, color=None, axis: int = 0, **kwargs):
    """Mean over ``axis`` of ``samples`` with its 95% confidence band."""
    mean, low, high = mean_ci(samples, axis=axis)
    (line,) = ax.plot(x, mean, label=label, color=color, lw=1.8, **kwargs)
    ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, lw=0)
    return line


def reference(ax, x, y, *, label: str, color="0.3"):
    """A dashed reference curve (a theoretical rate or a lower bound)."""
    ax.plot(x, y, ls="--", color=color, lw=1.2, label=label)


def regret_curves(
    ax,
    rounds: np.ndarray,
    curves: Mapping[str, np.ndarray],
    *,
    title: str = "",
    logx: bool = True,
    logy: bool = False,
):
    """Cumulative regret [seeds, M] per algorithm against rounds."""
    for i, (name, regret) in enumerate(curves.items()):
        band(ax, rounds, regret, label=name, color=COLORS[i % len(COLORS)])
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("round t")
    ax.set_ylabel("cumulative regret")
    if title:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)


def save_figure(
    fig,
    path: str | os.PathLike,
    *,
    legend_axes: Sequence | None = None,
    layout: bool = True,
):
    """Tight layout, legends, and an atomic write of the PNG."""
    for ax in fig.axes if legend_axes is None else legend_axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, frameon=False)
    if layout:
        fig.tight_layout()
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=130)
    os.replace(tmp, path)
    plt.close(fig)
