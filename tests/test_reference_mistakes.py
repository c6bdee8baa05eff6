"""The references behind named misconceptions and carried-forward credit, each checked independently."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reference import rl, rnn

SPEC = {"W": [[1, -1], [0, 2]], "U": [[-1, 0], [1, -2]], "V": [[-2, 1], [-1, 0]], "b": [-1, 1], "c": [1, 0],
        "xs": [[1, 0], [0.5, 0.25], [0, 1]]}


def torch_losses(b: torch.Tensor) -> torch.Tensor:
    """Per-step losses of the spec's RNN written directly in torch (independent of reference/rnn.py)."""
    p = {k: torch.tensor(v, dtype=torch.float64) for k, v in SPEC.items() if k != "b"}
    h, losses = torch.zeros(2, dtype=torch.float64), []
    for x in p["xs"]:
        h = torch.tanh(b + p["W"] @ h + p["U"] @ x)
        y = torch.softmax(p["c"] + p["V"] @ h, dim=0)
        losses.append((y[0] - 0.5) ** 2 - torch.log(y[1]))
    return torch.stack(losses)


def true_gradient() -> np.ndarray:
    b = torch.tensor(SPEC["b"], dtype=torch.float64, requires_grad=True)
    torch_losses(b).sum().backward()
    return b.grad.numpy()


def test_gradient_ascent_steps_up_the_gradient() -> None:
    np.testing.assert_allclose(rnn.spec_b_new_ascent(), np.array(SPEC["b"]) + 0.01 * true_gradient(), rtol=1e-10)


def test_forward_differences_differ_from_central_by_the_first_order_error() -> None:
    forward = rnn.spec_grad_b_forward_differences()
    b = torch.tensor(SPEC["b"], dtype=torch.float64)
    expected = [(torch_losses(b + 1e-4 * e).sum() - torch_losses(b).sum()).item() / 1e-4
                for e in torch.eye(2, dtype=torch.float64)]
    np.testing.assert_allclose(forward, expected, rtol=1e-7)
    assert np.abs(forward - true_gradient()).max() > 1e-6  # a real, detectable difference from the right answer


def test_last_step_contribution_and_unsummed_steps() -> None:
    b = torch.tensor(SPEC["b"], dtype=torch.float64, requires_grad=True)
    rows = []
    for t in range(3):
        (grad,) = torch.autograd.grad(torch_losses(b)[t], b)
        rows.append(grad.numpy())
    np.testing.assert_allclose(rnn.spec_grad_b_last_step(), rows[-1], rtol=1e-10)
    np.testing.assert_allclose(rnn.spec_grad_b_steps_unsummed(), np.array(rows), rtol=1e-10)


def test_loss_of_the_last_step_only() -> None:
    b = torch.tensor(SPEC["b"], dtype=torch.float64)
    assert rnn.spec_loss_last_step() == pytest.approx(torch_losses(b)[-1].item(), rel=1e-12)


def test_softmax_over_time_columns_sum_to_one_not_rows() -> None:
    y = rnn.spec_y_hat_softmax_over_time()
    np.testing.assert_allclose(y.sum(axis=0), [1, 1])
    assert not np.allclose(y.sum(axis=1), 1)


def test_carried_forward_recomputations() -> None:
    b = np.array([-0.5, 0.7])
    assert rnn.loss_at_b(b) == pytest.approx(torch_losses(torch.tensor(b)).sum().item(), rel=1e-12)
    np.testing.assert_allclose(rnn.step_from_gradient([1.0, -2.0]), [-1.01, 1.02])
    np.testing.assert_allclose(rnn.slope_from_losses([1.0, 2.0], [1.0002, 2.0004]), [1.0, 2.0])
    np.testing.assert_allclose(rnn.gradient_from_steps([[1, 2], [3, 4]]), [4, 6])


def test_discount_misconceptions_match_their_closed_forms() -> None:
    assert rl.spec_gamma_trivial_root() == pytest.approx(0.0, abs=1e-12)
    assert rl.spec_gamma_C_bottom_off_by_one() == pytest.approx(110 ** (-1 / 100), rel=1e-10)
    assert rl.spec_gamma_C_top_off_by_one() == pytest.approx(6 ** (-1 / 4), rel=1e-10)
    assert (rl.spec_policy_A_gamma1_flipped(), rl.spec_policy_A_gamma0_flipped()) == ("stay", "right")
    assert (rl.spec_policy_B_below_flipped(), rl.spec_policy_B_above_flipped()) == ("right", "left")
