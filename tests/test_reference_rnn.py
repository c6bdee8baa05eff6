"""reference.rnn against torch autograd and against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reference import rnn

CASES = rnn.rnn_cases(seed=7, count=12)


def _torch_loss(params: dict[str, np.ndarray], b: torch.Tensor) -> torch.Tensor:
    """The spec's network written again in torch, with its own (library) softmax."""
    W, U, V, c, xs, h0 = (torch.tensor(params[k], dtype=torch.float64) for k in "W U V c xs h0".split())
    h, total = h0, torch.zeros((), dtype=torch.float64)
    for x in xs:
        h = torch.tanh(b + W @ h + U @ x)
        y_hat = torch.softmax(c + V @ h, dim=0)
        total = total + (y_hat[0] - 0.5) ** 2 - torch.log(y_hat[1])
    return total


def _autograd_grad_b(params: dict[str, np.ndarray]) -> tuple[float, np.ndarray]:
    b = torch.tensor(params["b"], dtype=torch.float64, requires_grad=True)
    loss = _torch_loss(params, b)
    loss.backward()
    return loss.item(), b.grad.numpy()


def _autograd_step_rows(params: dict[str, np.ndarray]) -> np.ndarray:
    """dl(t)/db for each t, by autograd on the first t steps' last loss alone."""
    rows = []
    for t in range(1, len(params["xs"]) + 1):
        prefix = {**params, "xs": params["xs"][:t]}
        previous = {**params, "xs": params["xs"][: t - 1]}
        b = torch.tensor(params["b"], dtype=torch.float64, requires_grad=True)
        (_torch_loss(prefix, b) - _torch_loss(previous, b)).backward()
        rows.append(b.grad.numpy())
    return np.array(rows)


def test_spec_sanity_loss() -> None:
    assert rnn.spec_loss() == pytest.approx(9.4348270126, abs=1e-9)


def test_y_hat_rows_are_distributions() -> None:
    for case in CASES:
        y_hat = rnn.forward(**case)["y_hat"]
        assert y_hat.shape == (len(case["xs"]), len(case["c"]))
        np.testing.assert_allclose(y_hat.sum(axis=1), 1.0, atol=1e-12)
        assert (y_hat > 0).all()


@pytest.mark.parametrize("case", CASES)
def test_loss_and_bptt_match_autograd(case: dict[str, np.ndarray]) -> None:
    loss, grad = _autograd_grad_b(case)
    assert rnn.rnn_loss(**case) == pytest.approx(loss, abs=1e-12)
    np.testing.assert_allclose(rnn.rnn_grad_b(**case), grad, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_step_contributions_match_autograd(case: dict[str, np.ndarray]) -> None:
    steps = rnn.grad_b_steps(**case)
    np.testing.assert_allclose(steps, _autograd_step_rows(case), atol=1e-12)
    np.testing.assert_allclose(steps.sum(axis=0), rnn.rnn_grad_b(**case), atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_central_differences_match_analytic(case: dict[str, np.ndarray]) -> None:
    minus, plus, grad = rnn.central_differences(**case)
    eps = 1e-4
    b = case["b"]
    for i in range(len(b)):
        shifted = b.copy()
        shifted[i] -= eps
        assert minus[i] == pytest.approx(_torch_loss(case, torch.tensor(shifted)).item(), abs=1e-12)
        shifted[i] += 2 * eps
        assert plus[i] == pytest.approx(_torch_loss(case, torch.tensor(shifted)).item(), abs=1e-12)
    np.testing.assert_allclose(grad, rnn.rnn_grad_b(**case), atol=1e-6)


def test_spec_values_fit_together() -> None:
    params = rnn.spec_params()
    _, grad = _autograd_grad_b(params)
    np.testing.assert_allclose(rnn.spec_grad_b_bptt(), grad, atol=1e-12)
    np.testing.assert_allclose(rnn.spec_grad_b_fd(), grad, atol=1e-6)
    np.testing.assert_allclose(rnn.spec_grad_b_steps().sum(axis=0), grad, atol=1e-12)
    assert rnn.spec_grad_b_steps().shape == (3, 2)
    assert rnn.spec_y_hat().shape == (3, 2)
    np.testing.assert_allclose(rnn.spec_b_new(), params["b"] - 0.01 * grad, atol=1e-12)
    new_loss = _torch_loss(params, torch.tensor(params["b"] - 0.01 * grad)).item()
    assert rnn.spec_loss_new() == pytest.approx(new_loss, abs=1e-12)
    assert rnn.spec_loss_new() < rnn.spec_loss()


def test_other_factorisation_of_inputs_gives_same_loss() -> None:
    """Only U x(t) enters: (U M)(M⁻¹ x) gives the same loss and gradient."""
    params = rnn.spec_params()
    M = np.array([[2.0, 1.0], [0.0, 0.5]])
    refactored = {**params, "U": params["U"] @ M, "xs": params["xs"] @ np.linalg.inv(M).T}
    assert rnn.rnn_loss(**refactored) == pytest.approx(rnn.spec_loss(), abs=1e-12)
    np.testing.assert_allclose(rnn.rnn_grad_b(**refactored), rnn.spec_grad_b_bptt(), atol=1e-12)


def test_cases_are_deterministic_and_spec_first() -> None:
    again = rnn.rnn_cases(seed=7, count=12)
    for a, b in zip(CASES, again, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    for key, value in rnn.spec_params().items():
        np.testing.assert_array_equal(CASES[0][key], value)
    sizes = {(len(c["b"]), c["xs"].shape[1], len(c["c"]), len(c["xs"])) for c in CASES[1:]}
    assert len(sizes) > 1
    assert not np.array_equal(rnn.rnn_cases(seed=8, count=1)[1]["W"], CASES[1]["W"])
