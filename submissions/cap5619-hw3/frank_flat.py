# CAP 5619 Homework 3, Problem 3 only
# Frank Garcia
#
# plain python (math module), numpy only for the final answers

import math
import numpy as np

W = [[1, -1], [0, 2]]
U = [[-1, 0], [1, -2]]
V = [[-2, 1], [-1, 0]]
b = [-1, 1]
c = [1, 0]
X = [[1, 0], [0.5, 0.25], [0, 1]]


def matvec(M, v):
    return [sum(M[i][j] * v[j] for j in range(len(v))) for i in range(len(M))]


def add(*vs):
    return [sum(t) for t in zip(*vs)]


def softmax(o):
    m = max(o)
    e = [math.exp(x - m) for x in o]
    return [x / sum(e) for x in e]


def forward(bias):
    h = [0.0, 0.0]
    hs, ys, ls = [], [], []
    for x in X:
        a = add(bias, matvec(W, h), matvec(U, x))
        h = [math.tanh(v) for v in a]
        y = softmax(add(c, matvec(V, h)))
        hs.append(h)
        ys.append(y)
        ls.append((y[0] - 0.5) ** 2 - math.log(y[1]))
    return hs, ys, ls


def total(bias):
    return sum(forward(bias)[2])


# --- 3.1
hs, y_hat, step_losses = forward(b)        # y_hat is a list of 3 lists of 2
loss = sum(step_losses)

# --- 3.2
eps = 1e-4
loss_b_minus = [total([b[0] - eps, b[1]]), total([b[0], b[1] - eps])]
loss_b_plus = [total([b[0] + eps, b[1]]), total([b[0], b[1] + eps])]
grad_b_fd = [(p - m) / (2 * eps) for p, m in zip(loss_b_plus, loss_b_minus)]

# --- 3.3  forward accumulation of dh(t)/db (2x2 matrices as nested lists)
dh = [[0.0, 0.0], [0.0, 0.0]]
grad_b_steps = []
for t in range(3):
    h = hs[t]
    y = y_hat[t]
    # da/db = I + W dh(t-1)/db
    da = [[(1.0 if i == j else 0.0) + sum(W[i][k] * dh[k][j] for k in range(2)) for j in range(2)] for i in range(2)]
    dh = [[(1 - h[i] ** 2) * da[i][j] for j in range(2)] for i in range(2)]
    g = [2 * (y[0] - 0.5), -1 / y[1]]
    ybar = sum(y[i] * g[i] for i in range(2))
    dl_do = [y[i] * (g[i] - ybar) for i in range(2)]
    dl_dh = [sum(V[k][i] * dl_do[k] for k in range(2)) for i in range(2)]
    grad_b_steps.append([sum(dl_dh[i] * dh[i][j] for i in range(2)) for j in range(2)])
grad_b_bptt = np.array([sum(row[j] for row in grad_b_steps) for j in range(2)])

# --- 3.4 / 3.5
b_new = np.array(b) - 0.01 * grad_b_bptt
loss_new = round(total(list(b_new)), 2)    # 9.43

print("y_hat", y_hat)
print("L", loss)
print("fd", grad_b_fd, "bptt", grad_b_bptt)
print("b_new", b_new, "loss_new", loss_new)
