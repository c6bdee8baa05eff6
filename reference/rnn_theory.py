"""Reference for Duke HW5-6 problem 1: slopes, stability of a linear RNN, GRU/LSTM sizes."""

from __future__ import annotations

from typing import Any

import numpy as np

# Spectral radii this close above 1 count as 1: eigenvalues of e.g. a rotation carry rounding.
STABILITY_TOL = 1e-12


def spec_max_slope_tanh() -> float:
    """tanh' = 1 − tanh², largest where tanh = 0, i.e. at 0."""
    return float(1.0 - np.tanh(0.0) ** 2)


def spec_max_slope_sigmoid() -> float:
    """σ' = σ(1 − σ), largest where σ = ½, i.e. at 0."""
    s = 1.0 / (1.0 + np.exp(-0.0))
    return float(s * (1.0 - s))


def is_stable(W: np.ndarray) -> bool:
    """True when h ← W h cannot blow up: spectral radius of W ≤ 1."""
    return bool(np.max(np.abs(np.linalg.eigvals(np.asarray(W, dtype=np.float64)))) <= 1.0 + STABILITY_TOL)


def _gated_params(gates: int, input_size: int, hidden_size: int) -> int:
    """Per gate: W_ih (h×i), W_hh (h×h) and torch's two bias vectors b_ih, b_hh."""
    return gates * (hidden_size * input_size + hidden_size * hidden_size + 2 * hidden_size)


def gru_num_params(input_size: int, hidden_size: int) -> int:
    return _gated_params(3, input_size, hidden_size)


def lstm_num_params(input_size: int, hidden_size: int) -> int:
    return _gated_params(4, input_size, hidden_size)


def is_stable_cases(seed: int, count: int) -> list[dict[str, Any]]:
    """Identity and a quarter-turn rotation (radius exactly 1), then random matrices.

    Random matrices are 2×2 to 6×6, rescaled to a spectral radius in [0.3, 0.8]
    or [1.2, 2.0], alternating, so rounding can never decide the answer.
    """
    rng = np.random.default_rng(seed)
    cases: list[dict[str, Any]] = [
        {"W": np.eye(3)},
        {"W": np.array([[0.0, -1.0], [1.0, 0.0]])},
    ]
    for i in range(count):
        n = int(rng.integers(2, 7))
        W = rng.normal(size=(n, n))
        radius = rng.uniform(0.3, 0.8) if i % 2 == 0 else rng.uniform(1.2, 2.0)
        cases.append({"W": W * (radius / np.max(np.abs(np.linalg.eigvals(W))))})
    return cases


def _size_cases(seed: int, count: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [
        {"input_size": int(rng.integers(1, 33)), "hidden_size": int(rng.integers(1, 33))}
        for _ in range(count)
    ]


def gru_num_params_cases(seed: int, count: int) -> list[dict[str, Any]]:
    return _size_cases(seed, count)


def lstm_num_params_cases(seed: int, count: int) -> list[dict[str, Any]]:
    return _size_cases(seed, count)
