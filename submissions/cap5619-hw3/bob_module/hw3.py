"""CAP 5619 HW3 -- Problem 3 (BPTT).  Bob Baptiste.

Only Problem 3 is done here (no time left for 1, 2 and 4).

Only the products U x(t) enter the network, so I first turn the inputs into
"drives" d(t) = U x(t) and run the recurrence a(t) = b + W h(t-1) + d(t).
Gradients are computed with an explicit backward pass (reverse mode).
"""
import math
import numpy as np

# ---------------------------------------------------------------- the network
W_rec = np.array([[1.0, -1.0], [0.0, 2.0]])
U_in = np.array([[-1.0, 0.0], [1.0, -2.0]])
V_out = np.array([[-2.0, 1.0], [-1.0, 0.0]])
b0 = np.array([-1.0, 1.0])
c0 = np.array([1.0, 0.0])
inputs = np.array([[1.0, 0.0], [0.5, 0.25], [0.0, 1.0]])
h_init = np.zeros(2)
EPS = 1e-4
LR = 0.01


def drives(U, xs):
    """d(t) = U x(t) for every step, shape (T, n)."""
    T = len(xs)
    n = U.shape[0]
    d = np.zeros((T, n))
    for t in range(T):
        for i in range(n):
            d[t, i] = sum(U[i, j] * xs[t][j] for j in range(U.shape[1]))
    return d


def softmax_vec(o):
    m = max(o)
    ex = [math.exp(v - m) for v in o]
    s = sum(ex)
    return np.array([v / s for v in ex])


def unroll(W, V, b, c, d, h0):
    """Forward pass on the drives.  Returns lists of h(t) and yhat(t), t = 1..T."""
    hs, ys = [], []
    h = np.array(h0, dtype=float)
    for t in range(len(d)):
        a = b + W.dot(h) + d[t]
        h = np.tanh(a)
        hs.append(h)
        ys.append(softmax_vec(c + V.dot(h)))
    return hs, ys


def loss_terms(ys):
    return [(y[0] - 0.5) ** 2 - math.log(y[1]) for y in ys]


def rnn_loss(W, U, V, b, c, xs, h0):
    W, U, V, b, c, h0 = [np.asarray(z, dtype=float) for z in (W, U, V, b, c, h0)]
    xs = np.asarray(xs, dtype=float).reshape(-1, U.shape[1])
    _, ys = unroll(W, V, b, c, drives(U, xs), h0)
    return float(sum(loss_terms(ys)))


def backprop_b(W, V, b, c, d, h0, last=None):
    """dl/db by a backward pass.  last=None: whole loss L; last=t: only the term l(t) (0-based)."""
    hs, ys = unroll(W, V, b, c, d, h0)
    T = len(d)
    if last is None:
        wanted = range(T)
    else:
        wanted = [last]
    grad = np.zeros(len(b))
    carry = np.zeros(len(b))          # dL/dh(t) arriving from step t+1
    for t in reversed(range(T)):
        dh = carry.copy()
        if t in wanted:
            y = ys[t]
            g = np.zeros(len(y))
            g[0] = 2.0 * (y[0] - 0.5)
            g[1] = -1.0 / y[1]
            jac = np.diag(y) - np.outer(y, y)      # d yhat / d o (symmetric)
            do = jac.dot(g)
            dh = dh + V.T.dot(do)
        da = (1.0 - hs[t] ** 2) * dh
        grad = grad + da                          # a(t) = b + ... so da/db = I
        carry = W.T.dot(da)
    return grad


def rnn_grad_b(W, U, V, b, c, xs, h0):
    W, U, V, b, c, h0 = [np.asarray(z, dtype=float) for z in (W, U, V, b, c, h0)]
    xs = np.asarray(xs, dtype=float).reshape(-1, U.shape[1])
    return backprop_b(W, V, b, c, drives(U, xs), h0)


# ---------------------------------------------------------------- 3.1
D = drives(U_in, inputs)
_, yhat_list = unroll(W_rec, V_out, b0, c0, D, h_init)
y_hat = np.array(yhat_list)
per_step = loss_terms(yhat_list)
loss = float(sum(per_step))

# ---------------------------------------------------------------- 3.2
loss_b_minus = np.zeros(2)
loss_b_plus = np.zeros(2)
for i in range(2):
    bm = b0.copy(); bm[i] -= EPS
    bp = b0.copy(); bp[i] += EPS
    loss_b_minus[i] = rnn_loss(W_rec, U_in, V_out, bm, c0, inputs, h_init)
    loss_b_plus[i] = rnn_loss(W_rec, U_in, V_out, bp, c0, inputs, h_init)
grad_b_fd = (loss_b_plus - loss_b_minus) / (2 * EPS)

# ---------------------------------------------------------------- 3.3
# row t = d l(t) / d b  (the whole effect of b on the loss of step t)
grad_b_steps = np.array([backprop_b(W_rec, V_out, b0, c0, D, h_init, last=t) for t in range(3)])
grad_b_bptt = rnn_grad_b(W_rec, U_in, V_out, b0, c0, inputs, h_init)
assert np.allclose(grad_b_steps.sum(axis=0), grad_b_bptt)
assert np.allclose(grad_b_bptt, grad_b_fd, atol=1e-6)

# ---------------------------------------------------------------- 3.4 / 3.5
b_new = b0 - LR * grad_b_bptt
loss_new = rnn_loss(W_rec, U_in, V_out, b_new, c0, inputs, h_init)


if __name__ == "__main__":
    print("y_hat =\n", y_hat)
    print("L =", loss)
    print("L(b-eps) =", loss_b_minus, " L(b+eps) =", loss_b_plus)
    print("finite differences:", grad_b_fd)
    print("per-step contributions:\n", grad_b_steps)
    print("BPTT:", grad_b_bptt)
    print("b_new =", b_new, " L(b_new) =", loss_new)
