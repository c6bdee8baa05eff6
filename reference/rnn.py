"""Reference for CAP 5619 HW3 problem 3: a small tanh RNN, its loss and ∂L/∂b.

    a(t) = b + W h(t-1) + U x(t),  h(t) = tanh(a(t)),  o(t) = c + V h(t),
    ŷ(t) = softmax(o(t)),          l(t) = (ŷ1(t) − 0.5)² − log ŷ2(t),  L = Σ_t l(t)

Components 1 and 2 of the spec are indices 0 and 1 here. Numpy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EPS = 1e-4
LEARNING_RATE = 0.01


def spec_params() -> dict[str, np.ndarray]:
    """The problem's own network and inputs."""
    return {
        "W": np.array([[1.0, -1.0], [0.0, 2.0]]),
        "U": np.array([[-1.0, 0.0], [1.0, -2.0]]),
        "V": np.array([[-2.0, 1.0], [-1.0, 0.0]]),
        "b": np.array([-1.0, 1.0]),
        "c": np.array([1.0, 0.0]),
        "xs": np.array([[1.0, 0.0], [0.5, 0.25], [0.0, 1.0]]),
        "h0": np.zeros(2),
    }


def _softmax(o: np.ndarray) -> np.ndarray:
    e = np.exp(o - o.max())
    return e / e.sum()


def _log_softmax(o: np.ndarray) -> np.ndarray:
    shifted = o - o.max()
    return shifted - np.log(np.exp(shifted).sum())


def forward(W, U, V, b, c, xs, h0) -> dict[str, Any]:
    """Run the network; returns hidden states, outputs, per-step losses and L."""
    W, U, V, b, c, xs, h0 = (np.asarray(v, dtype=np.float64) for v in (W, U, V, b, c, xs, h0))
    h_prev = h0
    hs, y_hats, losses = [], [], []
    for x in xs:
        h = np.tanh(b + W @ h_prev + U @ x)
        o = c + V @ h
        y_hat = _softmax(o)
        losses.append((y_hat[0] - 0.5) ** 2 - _log_softmax(o)[1])
        hs.append(h)
        y_hats.append(y_hat)
        h_prev = h
    losses_arr = np.array(losses)
    return {
        "h": np.array(hs).reshape(len(xs), -1),
        "y_hat": np.array(y_hats).reshape(len(xs), -1),
        "losses": losses_arr,
        "loss": float(losses_arr.sum()),
    }


def _dl_do(y_hat: np.ndarray) -> np.ndarray:
    """∂l/∂o for one step, written without 1/ŷ2 so a tiny ŷ2 cannot blow it up.

    d(ŷ1 − 0.5)²/do = 2(ŷ1 − 0.5) ŷ1 (e1 − ŷ) and d(−log ŷ2)/do = ŷ − e2.
    """
    e1 = np.zeros_like(y_hat)
    e1[0] = 1.0
    e2 = np.zeros_like(y_hat)
    e2[1] = 1.0
    return 2.0 * (y_hat[0] - 0.5) * y_hat[0] * (e1 - y_hat) + (y_hat - e2)


def _local_dl_da(V: np.ndarray, h: np.ndarray, y_hat: np.ndarray) -> np.ndarray:
    """∂l(t)/∂a(t) holding the later steps fixed: diag(1 − h²) Vᵀ ∂l/∂o."""
    return (1.0 - h**2) * (V.T @ _dl_do(y_hat))


def rnn_loss(W, U, V, b, c, xs, h0) -> float:
    return forward(W, U, V, b, c, xs, h0)["loss"]


def rnn_grad_b(W, U, V, b, c, xs, h0) -> np.ndarray:
    """∂L/∂b by backpropagation through time (reverse mode, written by hand)."""
    run = forward(W, U, V, b, c, xs, h0)
    W, V = np.asarray(W, dtype=np.float64), np.asarray(V, dtype=np.float64)
    grad = np.zeros(W.shape[0])
    dl_da_next = np.zeros(W.shape[0])
    for h, y_hat in zip(run["h"][::-1], run["y_hat"][::-1]):
        dl_dh = V.T @ _dl_do(y_hat) + W.T @ dl_da_next
        dl_da = (1.0 - h**2) * dl_dh
        grad += dl_da
        dl_da_next = dl_da
    return grad


def grad_b_steps(W, U, V, b, c, xs, h0) -> np.ndarray:
    """Each step's contribution to ∂L/∂b, one row per step; the rows sum to ∂L/∂b.

    Row t is the total derivative dl(t)/db of that step's loss alone, through every
    a(s), s ≤ t. It is built forward, as the spec's table lists it:
        ∂a(t)/∂b = I + W ∂h(t−1)/∂b,   ∂h(t)/∂b = diag(1 − h(t)²) ∂a(t)/∂b,
        contribution(t) = ∂l(t)/∂a(t) · ∂a(t)/∂b,
    with ∂h(0)/∂b = 0 and ∂l(t)/∂a(t) the local derivative of l(t) alone.
    """
    run = forward(W, U, V, b, c, xs, h0)
    W, V = np.asarray(W, dtype=np.float64), np.asarray(V, dtype=np.float64)
    n = W.shape[0]
    dh_prev_db = np.zeros((n, n))
    rows = []
    for h, y_hat in zip(run["h"], run["y_hat"]):
        da_db = np.eye(n) + W @ dh_prev_db
        rows.append(_local_dl_da(V, h, y_hat) @ da_db)
        dh_prev_db = (1.0 - h**2)[:, None] * da_db
    return np.array(rows).reshape(len(run["h"]), n)


def central_differences(
    W, U, V, b, c, xs, h0, eps: float = EPS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(L(b − ε eᵢ), L(b + ε eᵢ), their central-difference slope) for every i."""
    b = np.asarray(b, dtype=np.float64)
    minus, plus = np.empty_like(b), np.empty_like(b)
    for i in range(b.size):
        step = np.zeros_like(b)
        step[i] = eps
        minus[i] = rnn_loss(W, U, V, b - step, c, xs, h0)
        plus[i] = rnn_loss(W, U, V, b + step, c, xs, h0)
    return minus, plus, (plus - minus) / (2.0 * eps)


def descent_step(b, grad, lr: float = LEARNING_RATE) -> np.ndarray:
    return np.asarray(b, dtype=np.float64) - lr * np.asarray(grad, dtype=np.float64)


# Expected values for the spec's problem.


def spec_y_hat() -> np.ndarray:
    return forward(**spec_params())["y_hat"]


def spec_loss() -> float:
    return rnn_loss(**spec_params())


def spec_loss_b_minus() -> np.ndarray:
    return central_differences(**spec_params())[0]


def spec_loss_b_plus() -> np.ndarray:
    return central_differences(**spec_params())[1]


def spec_grad_b_fd() -> np.ndarray:
    return central_differences(**spec_params())[2]


def spec_grad_b_bptt() -> np.ndarray:
    return rnn_grad_b(**spec_params())


def spec_grad_b_steps() -> np.ndarray:
    return grad_b_steps(**spec_params())


def spec_b_new() -> np.ndarray:
    params = spec_params()
    return descent_step(params["b"], rnn_grad_b(**params))


def spec_loss_new() -> float:
    return rnn_loss(**{**spec_params(), "b": spec_b_new()})


# Error carried forward: an expected value recomputed from a student's own earlier answer.


def loss_at_b(b_new) -> float:
    """3.5 from the student's 3.4: the loss of the spec's network at their b."""
    return rnn_loss(**{**spec_params(), "b": np.asarray(b_new, dtype=np.float64)})


def step_from_gradient(grad_b_bptt) -> np.ndarray:
    """3.4 from the student's 3.3: one descent step from the spec's b along their gradient."""
    return descent_step(spec_params()["b"], grad_b_bptt)


def slope_from_losses(loss_b_minus, loss_b_plus) -> np.ndarray:
    """3.2's estimate from the student's own four perturbed losses."""
    return (np.asarray(loss_b_plus, dtype=np.float64) - np.asarray(loss_b_minus, dtype=np.float64)) / (2 * EPS)


def gradient_from_steps(grad_b_steps) -> np.ndarray:
    """3.3's gradient as the sum of the student's own per-step contributions."""
    return np.asarray(grad_b_steps, dtype=np.float64).sum(axis=0)


# Likely wrong answers (named misconceptions), each computed the way the mistake computes it.


def spec_b_new_ascent() -> np.ndarray:
    """b + η ∂L/∂b: a step up the loss."""
    params = spec_params()
    return params["b"] + LEARNING_RATE * rnn_grad_b(**params)


def spec_grad_b_forward_differences() -> np.ndarray:
    """(L(b + ε eᵢ) − L(b)) / ε instead of the central difference."""
    params = spec_params()
    base = rnn_loss(**params)
    return np.array([(rnn_loss(**{**params, "b": params["b"] + EPS * e}) - base) / EPS for e in np.eye(len(params["b"]))])


def spec_grad_b_last_step() -> np.ndarray:
    """Only the last step's contribution ∂l(T)/∂b, not the sum over steps."""
    return grad_b_steps(**spec_params())[-1]


def spec_grad_b_steps_unsummed() -> np.ndarray:
    """The per-step contributions handed in as the gradient, not summed."""
    return grad_b_steps(**spec_params())


def spec_loss_last_step() -> float:
    """l(T) alone instead of L = Σ_t l(t)."""
    return float(forward(**spec_params())["losses"][-1])


def spec_y_hat_softmax_over_time() -> np.ndarray:
    """Softmax taken over the time steps (axis 0) instead of over the outputs of each step."""
    params = spec_params()
    h, outputs = params["h0"], []
    for x in params["xs"]:
        h = np.tanh(params["b"] + params["W"] @ h + params["U"] @ x)
        outputs.append(params["c"] + params["V"] @ h)
    o = np.array(outputs)
    e = np.exp(o - o.max(axis=0))
    return e / e.sum(axis=0)


def rnn_cases(seed: int, count: int) -> list[dict[str, Any]]:
    """The spec's inputs, then `count` random networks of other sizes.

    Weights are normal × 0.5 so tanh stays off saturation; h0 is random too, so a
    function that ignores its h0 argument is caught.
    """
    rng = np.random.default_rng(seed)
    cases: list[dict[str, Any]] = [spec_params()]
    for _ in range(count):
        n, m, k, T = (int(rng.integers(lo, hi + 1)) for lo, hi in ((2, 5), (1, 4), (2, 5), (1, 6)))
        cases.append(
            {
                "W": rng.normal(size=(n, n)) * 0.5,
                "U": rng.normal(size=(n, m)) * 0.5,
                "V": rng.normal(size=(k, n)) * 0.5,
                "b": rng.normal(size=n) * 0.5,
                "c": rng.normal(size=k) * 0.5,
                "xs": rng.normal(size=(T, m)),
                "h0": rng.normal(size=n) * 0.5,
            }
        )
    return cases
