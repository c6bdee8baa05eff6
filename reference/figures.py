"""Reference figures for CAP 5619 HW3, shown on a student's page beside their own.

Each function takes no arguments and returns PNG bytes, drawn with matplotlib's Agg canvas
(no pyplot state, so nothing leaks between figures) from the grader's own untrained model
`make_model(0)` and its synthetic digits. Same code, same bytes: no dates in the metadata.
Figures are small (72 dpi, a few inches) so the pages that embed them stay light.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from grader.fixtures import make_model
from reference.cnn import _as_batch, conv_filters, feature_maps, occlusion_maps, shift_image, synthetic_digit

DPI = 72
SEED = 0


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _panel(axes, image: np.ndarray, title: str = "", cmap: str = "gray", **kwargs):
    shown = axes.imshow(image, cmap=cmap, interpolation="nearest", **kwargs)
    axes.set_xticks([])
    axes.set_yticks([])
    if title:
        axes.set_title(title, fontsize=8)
    return shown


def filters_png() -> bytes:
    """The 3×3 filters of make_model(0)'s first conv layer, one panel each."""
    weights = conv_filters(make_model(SEED), 1)  # (4, 1, 3, 3)
    figure = Figure(figsize=(4.4, 1.5), layout="constrained")
    figure.suptitle("Layer 1 filters", fontsize=9)
    limit = float(np.abs(weights).max())
    for index, axes in enumerate(figure.subplots(1, len(weights)).ravel()):
        _panel(axes, weights[index, 0], f"filter {index + 1}", cmap="RdBu_r", vmin=-limit, vmax=limit)
    return _png(figure)


def feature_maps_png() -> bytes:
    """Feature maps after each conv layer (after ReLU) of make_model(0) for a synthetic 0 and 8:
    a row per digit and layer, the input at the left of each digit's first row."""
    model = make_model(SEED)
    digits = (0, 8)
    maps = {d: feature_maps(model, _as_batch(synthetic_digit(d, SEED))) for d in digits}
    layers = len(maps[digits[0]])
    columns = 1 + max(m.shape[0] for m in maps[digits[0]])
    figure = Figure(figsize=(0.62 * columns, 0.66 * layers * len(digits) + 0.3), layout="constrained")
    figure.suptitle("Feature maps after each conv layer (ReLU)", fontsize=9)
    grid = figure.subplots(layers * len(digits), columns, squeeze=False)
    for d_index, digit in enumerate(digits):
        for layer, activations in enumerate(maps[digit]):
            row = grid[d_index * layers + layer]
            for axes in row:
                axes.set_axis_off()
            if layer == 0:
                _panel(row[0], synthetic_digit(digit, SEED), f"input {digit}")
                row[0].set_axis_on()
            row[1].text(-0.15, 0.5, f"L{layer + 1}", fontsize=7, ha="right", va="center", transform=row[1].transAxes)
            for channel, image in enumerate(activations):
                row[1 + channel].set_axis_on()
                _panel(row[1 + channel], image, cmap="viridis")
    return _png(figure)


def shifted_png() -> bytes:
    """A synthetic 1 moved 3 pixels left, as drawn, and 3 pixels right, titled with make_model(0)'s predictions."""
    model = make_model(SEED)
    one = synthetic_digit(1, SEED)
    images = [("left 3", shift_image(one, -3)), ("original", one), ("right 3", shift_image(one, 3))]
    batch = torch.cat([_as_batch(image) for _, image in images])
    with torch.no_grad():
        labels = model(batch).argmax(dim=1).tolist()
    figure = Figure(figsize=(4.8, 1.9), layout="constrained")
    figure.suptitle("A 1 shifted, with the model's predictions", fontsize=9)
    for axes, (name, image), label in zip(figure.subplots(1, 3).ravel(), images, labels):
        _panel(axes, image, f"{name}: predicted {label}", vmin=0, vmax=1)
    return _png(figure)


def occlusion_png() -> bytes:
    """The three occlusion maps of a synthetic 6 (patch 6, stride 2, fill 0.5) under make_model(0)."""
    prob, max_prob, label = occlusion_maps(make_model(SEED), _as_batch(synthetic_digit(6, SEED)),
                                           target=6, patch=6, stride=2, fill=0.5)
    figure = Figure(figsize=(7.0, 2.3), layout="constrained")
    figure.suptitle("Occlusion of a 6 (patch 6, stride 2, fill 0.5)", fontsize=9)
    panels = ((prob, "p(6)", "viridis", {}), (max_prob, "highest probability", "viridis", {}),
              (label, "predicted label", "tab10", {"vmin": -0.5, "vmax": 9.5}))
    for axes, (image, title, cmap, limits) in zip(figure.subplots(1, 3).ravel(), panels):
        shown = _panel(axes, image, title, cmap=cmap, **limits)
        axes.set_xlabel("patch column", fontsize=7)
        axes.set_ylabel("patch row", fontsize=7)
        bar = figure.colorbar(shown, ax=axes, shrink=0.85)
        bar.ax.tick_params(labelsize=6)
    return _png(figure)
