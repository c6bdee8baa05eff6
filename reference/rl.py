"""Reference for Duke HW5-6 problem 3: discounted returns and break-even discounts.

Each choice is the list of rewards r_0, r_1, … it collects; its return is Σ γ^k r_k.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# The spec's chains, one reward list per choice from state 1.
CHAIN_A = {"stay": [1.0], "right": [0.0, 0.0, 4.0]}
CHAIN_B = {"left": [0.0, 1.0], "right": [0.0, 0.0, 3.0]}
CHAIN_C_TOP = {"stay": [1.0], "right": [0.0, 0.0, 0.0, 6.0]}
CHAIN_C_BOTTOM = {"stay": [1.0], "right": [0.0] * 99 + [110.0]}

# Roots closer than this to each other, or with a larger imaginary part, are merged / dropped.
_ROOT_TOL = 1e-7


def discounted_return(rewards: list[float], gamma: float) -> float:
    return float(sum(r * gamma**k for k, r in enumerate(rewards)))


def _difference(rewards_a: list[float], rewards_b: list[float]) -> np.ndarray:
    """Coefficients (lowest degree first) of return_a(γ) − return_b(γ)."""
    size = max(len(rewards_a), len(rewards_b))
    a = np.zeros(size)
    b = np.zeros(size)
    a[: len(rewards_a)] = rewards_a
    b[: len(rewards_b)] = rewards_b
    return a - b


def _polish(poly: np.polynomial.Polynomial, root: float) -> float:
    """A few Newton steps on the polynomial itself; eigenvalue roots of high degree lose digits."""
    slope = poly.deriv()
    for _ in range(5):
        d = slope(root)
        if d == 0.0:
            break
        root -= poly(root) / d
    return float(root)


def breakeven_gamma(rewards_a: list[float], rewards_b: list[float]) -> float:
    """The γ in (0, 1) where the two discounted returns are equal.

    Finds the real roots in (0, 1) of the difference polynomial; raises ValueError
    unless there is exactly one (none, several, or identical returns).
    """
    coefficients = np.trim_zeros(_difference(rewards_a, rewards_b), "b")
    if coefficients.size == 0:
        raise ValueError("the two returns are equal for every gamma")
    poly = np.polynomial.Polynomial(coefficients)
    roots: list[float] = []
    for root in poly.roots():
        if abs(root.imag) > _ROOT_TOL or not 0.0 < root.real < 1.0:
            continue
        root = _polish(poly, root.real)
        if 0.0 < root < 1.0 and all(abs(root - r) > _ROOT_TOL for r in roots):
            roots.append(root)
    if len(roots) != 1:
        raise ValueError(f"expected exactly one break-even gamma in (0, 1), found {len(roots)}")
    return roots[0]


def _best(chain: dict[str, list[float]], gamma: float) -> str:
    return max(chain, key=lambda choice: discounted_return(chain[choice], gamma))


# Expected values for the spec's problems, computed from the chains.


def spec_policy_A_gamma1() -> str:
    return _best(CHAIN_A, 1.0)


def spec_policy_A_gamma0() -> str:
    return _best(CHAIN_A, 0.0)


def spec_gamma_A() -> float:
    return breakeven_gamma(CHAIN_A["stay"], CHAIN_A["right"])


def spec_gamma_B() -> float:
    return breakeven_gamma(CHAIN_B["left"], CHAIN_B["right"])


def spec_policy_B_below() -> str:
    return _best(CHAIN_B, spec_gamma_B() / 2)


def spec_policy_B_above() -> str:
    return _best(CHAIN_B, (spec_gamma_B() + 1) / 2)


def spec_gamma_C_top() -> float:
    return breakeven_gamma(CHAIN_C_TOP["stay"], CHAIN_C_TOP["right"])


def spec_gamma_C_bottom() -> float:
    return breakeven_gamma(CHAIN_C_BOTTOM["stay"], CHAIN_C_BOTTOM["right"])


def _rounded(rng: np.random.Generator, low: float, high: float, size: int) -> list[float]:
    """Uniform rewards with two decimals, so cases read well in a report."""
    return [float(r) for r in np.round(rng.uniform(low, high, size=size), 2)]


# Likely wrong answers (named misconceptions), each computed the way the mistake computes it.


def spec_gamma_trivial_root() -> float:
    """γ = 0: both of task B's returns are 0 there, a root of the break-even equation outside (0, 1)."""
    roots = np.polynomial.Polynomial(_difference(CHAIN_B["left"], CHAIN_B["right"])).roots()
    return float(min(roots, key=abs).real)


def spec_gamma_C_bottom_off_by_one() -> float:
    """The reward counted one step late: 110 γ¹⁰⁰ = 1."""
    return breakeven_gamma(CHAIN_C_BOTTOM["stay"], [0.0] + CHAIN_C_BOTTOM["right"])


def spec_gamma_C_top_off_by_one() -> float:
    """The reward counted one step late: 6 γ⁴ = 1."""
    return breakeven_gamma(CHAIN_C_TOP["stay"], [0.0] + CHAIN_C_TOP["right"])


def spec_policy_A_gamma1_flipped() -> str:
    return next(choice for choice in CHAIN_A if choice != spec_policy_A_gamma1())


def spec_policy_A_gamma0_flipped() -> str:
    return next(choice for choice in CHAIN_A if choice != spec_policy_A_gamma0())


def spec_policy_B_below_flipped() -> str:
    return next(choice for choice in CHAIN_B if choice != spec_policy_B_below())


def spec_policy_B_above_flipped() -> str:
    return next(choice for choice in CHAIN_B if choice != spec_policy_B_above())


def discounted_return_cases(seed: int, count: int) -> list[dict[str, Any]]:
    """The spec's chains at γ = 0, ½ and 1, then random reward lists and discounts."""
    rng = np.random.default_rng(seed)
    cases: list[dict[str, Any]] = [
        {"rewards": list(rewards), "gamma": gamma}
        for chain in (CHAIN_A, CHAIN_B)
        for rewards in chain.values()
        for gamma in (0.0, 0.5, 1.0)
    ]
    for _ in range(count):
        rewards = _rounded(rng, -2.0, 5.0, int(rng.integers(1, 11)))
        cases.append({"rewards": rewards, "gamma": float(rng.uniform(0.05, 0.99))})
    return cases


def breakeven_gamma_cases(seed: int, count: int) -> list[dict[str, Any]]:
    """The spec's four pairs, then random pairs with exactly one break-even in [0.1, 0.9].

    A random pair is an early reward against a later, larger one plus a little noise
    on other steps; pairs without exactly one root, or with it outside [0.1, 0.9],
    are redrawn.
    """
    rng = np.random.default_rng(seed)
    spec_pairs = ((CHAIN_A, "stay"), (CHAIN_B, "left"), (CHAIN_C_TOP, "stay"), (CHAIN_C_BOTTOM, "stay"))
    cases: list[dict[str, Any]] = [
        {"rewards_a": list(chain[first]), "rewards_b": list(chain["right"])} for chain, first in spec_pairs
    ]
    while len(cases) < count + len(spec_pairs):
        early = _rounded(rng, 0.0, 1.0, int(rng.integers(1, 4)))
        early[-1] = _rounded(rng, 0.5, 2.0, 1)[0]
        late = _rounded(rng, 0.0, 0.3, int(rng.integers(len(early) + 1, 8)))
        late[-1] = _rounded(rng, 2.0, 10.0, 1)[0]
        try:
            root = breakeven_gamma(early, late)
        except ValueError:
            continue
        if 0.1 <= root <= 0.9:
            cases.append({"rewards_a": early, "rewards_b": late})
    return cases
