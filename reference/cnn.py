"""Reference for CAP 5619 HW3 problems 1 and 2: filters, feature maps, shifts, occlusion.

Everything runs on the grader's own untrained SmallCNN (grader.fixtures) and on
drawn digits, never on MNIST or on anything a student trained.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grader.fixtures import IMAGE_SIZE, make_model

# Seven-segment layout: segment -> (start corner, end corner).
_SEGMENTS = {
    "a": ("TL", "TR"),
    "b": ("TR", "MR"),
    "c": ("MR", "BR"),
    "d": ("BL", "BR"),
    "e": ("ML", "BL"),
    "f": ("TL", "ML"),
    "g": ("ML", "MR"),
}
_DIGIT_SEGMENTS = {
    0: "abcdef",
    1: "bc",
    2: "abged",
    3: "abgcd",
    4: "fgbc",
    5: "afgcd",
    6: "afgedc",
    7: "abc",
    8: "abcdefg",
    9: "abcdfg",
}
# (row, col) of each corner before jitter, for a 28×28 canvas.
_CORNERS = {
    "TL": (5.0, 9.0),
    "TR": (5.0, 18.0),
    "ML": (14.0, 9.0),
    "MR": (14.0, 18.0),
    "BL": (23.0, 9.0),
    "BR": (23.0, 18.0),
}


def _conv_layers(model: nn.Module) -> list[nn.Conv2d]:
    return [m for m in model.modules() if isinstance(m, nn.Conv2d)]


def conv_filters(model: nn.Module, layer: int) -> np.ndarray:
    """Weights (out, in, kh, kw) of the `layer`-th nn.Conv2d (1-based, module order)."""
    convs = _conv_layers(model)
    if not 1 <= layer <= len(convs):
        raise ValueError(f"layer must be in 1..{len(convs)}, got {layer}")
    return convs[layer - 1].weight.detach().cpu().numpy().copy()


def feature_maps(model: nn.Module, image: torch.Tensor) -> list[np.ndarray]:
    """Activations after each conv layer's ReLU, (C, H', W') each, batch dim dropped.

    Hooks the convolutions and applies relu to their outputs, which is what the
    ReLU right after each of them computes, whatever container holds the layers.
    """
    outputs: list[torch.Tensor] = []
    handles = [
        conv.register_forward_hook(lambda _m, _inp, out: outputs.append(F.relu(out)))
        for conv in _conv_layers(model)
    ]
    try:
        with torch.no_grad():
            model(image)
    finally:
        for handle in handles:
            handle.remove()
    return [out[0].cpu().numpy().copy() for out in outputs]


def shift_image(image: np.ndarray, dx: int) -> np.ndarray:
    """`image` moved dx pixels right (negative: left); vacated pixels are 0."""
    image = np.asarray(image)
    width = image.shape[1]
    out = np.zeros_like(image)
    if abs(dx) >= width:
        return out
    if dx >= 0:
        out[:, dx:] = image[:, : width - dx]
    else:
        out[:, :dx] = image[:, -dx:]
    return out


def occlusion_maps(
    model: nn.Module,
    image: torch.Tensor,
    target: int,
    patch: int,
    stride: int,
    fill: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(prob_target, max_prob, label) over patch positions.

    Entry [i, j] is for the patch with top-left corner (i*stride, j*stride); there
    are (H - patch)//stride + 1 rows and (W - patch)//stride + 1 columns, which is
    the spec's (n, n) for a square image. All occluded images go through the model
    in one batch.
    """
    height, width = image.shape[-2:]
    rows = (height - patch) // stride + 1
    cols = (width - patch) // stride + 1
    batch = image.detach().reshape(1, 1, height, width).repeat(rows * cols, 1, 1, 1)
    for i in range(rows):
        for j in range(cols):
            r, c = i * stride, j * stride
            batch[i * cols + j, :, r : r + patch, c : c + patch] = fill
    with torch.no_grad():
        probs = torch.softmax(model(batch), dim=1).double()
    max_prob, label = probs.max(dim=1)
    return (
        probs[:, target].reshape(rows, cols).numpy(),
        max_prob.reshape(rows, cols).numpy(),
        label.reshape(rows, cols).numpy().astype(np.int64),
    )


def _segment_distance(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Distance from each of `points` (…, 2) to the segment start–end."""
    direction = end - start
    t = np.clip(((points - start) @ direction) / (direction @ direction), 0.0, 1.0)
    return np.linalg.norm(points - (start + t[..., None] * direction), axis=-1)


def synthetic_digit(digit: int, seed: int, shift: int = 0) -> np.ndarray:
    """A seven-segment style drawing of `digit`, (28, 28) float32 in [0, 1].

    The seed jitters the corners by up to a pixel and sets the stroke thickness;
    the figure is centred horizontally and then moved `shift` pixels right.
    """
    rng = np.random.default_rng(seed)
    corners = {name: np.array(rc) + rng.uniform(-1.0, 1.0, size=2) for name, rc in _CORNERS.items()}
    thickness = rng.uniform(1.0, 1.8)
    rr, cc = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE]
    points = np.stack([rr, cc], axis=-1).astype(np.float64)
    image = np.zeros((IMAGE_SIZE, IMAGE_SIZE))
    for segment in _DIGIT_SEGMENTS[digit]:
        start, end = (corners[name] for name in _SEGMENTS[segment])
        ink = np.clip(thickness + 0.5 - _segment_distance(points, start, end), 0.0, 1.0)
        image = np.maximum(image, ink)
    centre = (image.sum(axis=0) @ np.arange(IMAGE_SIZE)) / image.sum()
    image = shift_image(image, int(round((IMAGE_SIZE - 1) / 2 - centre)))
    return shift_image(image, shift).astype(np.float32)


def _as_batch(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).reshape(1, 1, *image.shape)


def conv_filters_cases(seed: int, count: int) -> list[dict[str, Any]]:
    """`count` models make_model(seed + i), cycling through layers 1, 2, 3."""
    return [{"model": make_model(seed + i), "layer": i % 3 + 1} for i in range(count)]


def feature_maps_cases(seed: int, count: int) -> list[dict[str, Any]]:
    """The spec's 0 and 8 first, then random digits, some with added noise."""
    rng = np.random.default_rng(seed)
    cases = [
        {"model": make_model(seed), "image": _as_batch(synthetic_digit(0, seed))},
        {"model": make_model(seed), "image": _as_batch(synthetic_digit(8, seed))},
    ]
    for i in range(count):
        image = synthetic_digit(int(rng.integers(10)), int(rng.integers(2**31)))
        if i % 2:
            image = np.clip(image + rng.uniform(0.0, 0.3, size=image.shape), 0.0, 1.0)
        cases.append({"model": make_model(seed + 1 + i), "image": _as_batch(image)})
    return cases


def shift_image_cases(seed: int, count: int) -> list[dict[str, Any]]:
    """A 1 moved left and right by 3 (the spec's setting), then random images.

    Random cases have other sizes (non-square included) and dx in −5..5; the
    first three random dx are 0, a negative and a positive one.
    """
    rng = np.random.default_rng(seed)
    one = synthetic_digit(1, seed)
    cases: list[dict[str, Any]] = [{"image": one, "dx": -3}, {"image": one, "dx": 3}]
    forced_dx = [0, -int(rng.integers(1, 6)), int(rng.integers(1, 6))]
    for i in range(count):
        height, width = (int(v) for v in rng.integers(6, 33, size=2))
        dx = forced_dx[i] if i < len(forced_dx) else int(rng.integers(-5, 6))
        cases.append({"image": rng.random((height, width)), "dx": dx})
    return cases


def occlusion_maps_cases(seed: int, count: int) -> list[dict[str, Any]]:
    """A 6 with the spec-like setting (patch 6, stride 2, fill 0.5), then random ones."""
    rng = np.random.default_rng(seed)
    cases: list[dict[str, Any]] = [
        {
            "model": make_model(seed),
            "image": _as_batch(synthetic_digit(6, seed)),
            "target": 6,
            "patch": 6,
            "stride": 2,
            "fill": 0.5,
        }
    ]
    for i in range(count):
        cases.append(
            {
                "model": make_model(seed + 1 + i),
                "image": _as_batch(synthetic_digit(int(rng.integers(10)), int(rng.integers(2**31)))),
                "target": int(rng.integers(10)),
                "patch": int(rng.integers(3, 11)),
                "stride": int(rng.integers(1, 5)),
                "fill": float(np.round(rng.uniform(0.0, 1.0), 2)),
            }
        )
    return cases
