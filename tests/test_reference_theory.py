"""reference.rnn_theory against a numeric grid, eigenvalues, powers of W and torch modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reference import rnn_theory


def test_max_slopes_match_a_dense_grid() -> None:
    x = np.linspace(-10.0, 10.0, 200_001)
    tanh_slope = np.gradient(np.tanh(x), x)
    sigmoid_slope = np.gradient(1.0 / (1.0 + np.exp(-x)), x)
    assert rnn_theory.spec_max_slope_tanh() == pytest.approx(tanh_slope.max(), abs=1e-6)
    assert rnn_theory.spec_max_slope_sigmoid() == pytest.approx(sigmoid_slope.max(), abs=1e-6)
    assert rnn_theory.spec_max_slope_tanh() == 1.0
    assert rnn_theory.spec_max_slope_sigmoid() == 0.25


CASES = rnn_theory.is_stable_cases(seed=0, count=12)


@pytest.mark.parametrize("case", CASES)
def test_is_stable_matches_eigenvalues_and_growth(case) -> None:
    W = case["W"]
    radius = max(abs(complex(v)) for v in np.linalg.eig(W).eigenvalues)
    stable = rnn_theory.is_stable(W)
    assert stable == (radius <= 1 + 1e-9)
    x = np.ones(len(W))
    norms = [np.linalg.norm(np.linalg.matrix_power(W, k) @ x) for k in (0, 200)]
    if stable:
        assert norms[1] <= 10 * norms[0]
    else:
        assert norms[1] > 1e6 * norms[0]


def test_is_stable_cases_have_both_answers_and_the_boundary() -> None:
    answers = [rnn_theory.is_stable(**c) for c in CASES]
    assert answers[:2] == [True, True]
    assert True in answers[2:] and False in answers[2:]
    assert {len(c["W"]) for c in CASES[2:]} <= set(range(2, 7))


@pytest.mark.parametrize("case", rnn_theory.gru_num_params_cases(seed=1, count=8))
def test_gru_num_params_matches_torch(case) -> None:
    module = torch.nn.GRU(case["input_size"], case["hidden_size"])
    assert rnn_theory.gru_num_params(**case) == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("case", rnn_theory.lstm_num_params_cases(seed=2, count=8))
def test_lstm_num_params_matches_torch(case) -> None:
    module = torch.nn.LSTM(case["input_size"], case["hidden_size"])
    assert rnn_theory.lstm_num_params(**case) == sum(p.numel() for p in module.parameters())


def test_cases_are_deterministic() -> None:
    for a, b in zip(CASES, rnn_theory.is_stable_cases(seed=0, count=12), strict=True):
        np.testing.assert_array_equal(a["W"], b["W"])
    assert rnn_theory.gru_num_params_cases(3, 5) == rnn_theory.gru_num_params_cases(3, 5)
