"""reference.rl against closed forms, an explicit sum and a bisection written here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reference import rl


def _diff(rewards_a: list[float], rewards_b: list[float], g: float) -> float:
    return sum(r * g**k for k, r in enumerate(rewards_a)) - sum(r * g**k for k, r in enumerate(rewards_b))


def _bisect_root(rewards_a: list[float], rewards_b: list[float], lo: float, hi: float) -> float:
    def diff(g: float) -> float:
        return _diff(rewards_a, rewards_b, g)

    assert diff(lo) * diff(hi) < 0
    for _ in range(200):
        mid = (lo + hi) / 2
        if diff(lo) * diff(mid) <= 0:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("spec_gamma_A", 1 / 2),
        ("spec_gamma_B", 1 / 3),
        ("spec_gamma_C_top", 6 ** (-1 / 3)),
        ("spec_gamma_C_bottom", 110 ** (-1 / 99)),
    ],
)
def test_breakeven_closed_forms(name: str, expected: float) -> None:
    assert getattr(rl, name)() == pytest.approx(expected, abs=1e-10)


def test_spec_policies() -> None:
    assert rl.spec_policy_A_gamma1() == "right"
    assert rl.spec_policy_A_gamma0() == "stay"
    assert rl.spec_policy_B_below() == "left"
    assert rl.spec_policy_B_above() == "right"


@pytest.mark.parametrize("case", rl.discounted_return_cases(seed=0, count=10))
def test_discounted_return_matches_explicit_sum(case) -> None:
    rewards, gamma = case["rewards"], case["gamma"]
    expected = 0.0
    weight = 1.0
    for r in rewards:
        expected += weight * r
        weight *= gamma
    assert rl.discounted_return(**case) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("case", rl.breakeven_gamma_cases(seed=1, count=15))
def test_breakeven_matches_bisection(case) -> None:
    """Scan a grid for the one sign change, then bisect it here."""
    grid = np.linspace(1e-6, 1 - 1e-6, 2001)
    diff = np.array([_diff(case["rewards_a"], case["rewards_b"], g) for g in grid])
    changes = np.flatnonzero(np.sign(diff[:-1]) != np.sign(diff[1:]))
    assert len(changes) == 1
    i = changes[0]
    expected = _bisect_root(case["rewards_a"], case["rewards_b"], grid[i], grid[i + 1])
    assert rl.breakeven_gamma(**case) == pytest.approx(expected, abs=1e-10)


def test_breakeven_cases_start_with_spec_and_are_deterministic() -> None:
    cases = rl.breakeven_gamma_cases(seed=1, count=15)
    assert len(cases) == 19
    assert cases[:2] == [
        {"rewards_a": [1.0], "rewards_b": [0.0, 0.0, 4.0]},
        {"rewards_a": [0.0, 1.0], "rewards_b": [0.0, 0.0, 3.0]},
    ]
    assert cases == rl.breakeven_gamma_cases(seed=1, count=15)
    assert cases != rl.breakeven_gamma_cases(seed=2, count=15)
    roots = [rl.breakeven_gamma(**c) for c in cases[4:]]
    assert all(0.1 <= r <= 0.9 for r in roots)


@pytest.mark.parametrize(
    ("rewards_a", "rewards_b"),
    [
        ([1.0], [1.0, 0.0]),  # equal for every gamma
        ([2.0], [0.0, 1.0]),  # 2 - g: no crossing
        ([0.0, 1.0], [0.0, 0.0, 1.0]),  # g(1 - g): zero only at 0 and 1
        ([0.18, 0.0, 1.0], [0.0, 0.9]),  # (g - 0.3)(g - 0.6): two crossings
    ],
)
def test_breakeven_raises_unless_exactly_one(rewards_a, rewards_b) -> None:
    with pytest.raises(ValueError):
        rl.breakeven_gamma(rewards_a, rewards_b)


def test_trailing_zeros_do_not_matter() -> None:
    assert rl.breakeven_gamma([1.0, 0.0, 0.0], [0.0, 0.0, 4.0, 0.0]) == pytest.approx(0.5, abs=1e-12)
    assert math.isclose(rl.discounted_return([1.0, 0.0], 0.3), 1.0)
