"""reference.cnn and grader.fixtures against manual torch ops and naive loops."""

from __future__ import annotations


import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.fixtures import SmallCNN, make_model, model_from_state, model_state
from reference import cnn


def _manual_feature_maps(model: SmallCNN, image: torch.Tensor) -> list[np.ndarray]:
    maps, x = [], image
    for conv in (model.conv1, model.conv2, model.conv3):
        x = F.relu(F.conv2d(x, conv.weight, conv.bias, padding=1))
        maps.append(x[0].detach().numpy())
        x = F.max_pool2d(x, 2)
    return maps


def _naive_occlusion(model, image, target, patch, stride, fill):
    height = image.shape[-1]
    n = (height - patch) // stride + 1
    prob_target, max_prob, label = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            occluded = image.clone()
            occluded[..., i * stride : i * stride + patch, j * stride : j * stride + patch] = fill
            with torch.no_grad():
                probs = torch.softmax(model(occluded)[0], dim=0)
            prob_target[i, j] = probs[target]
            max_prob[i, j] = probs.max()
            label[i, j] = probs.argmax()
    return prob_target, max_prob, label


def _naive_shift(image: np.ndarray, dx: int) -> np.ndarray:
    out = np.zeros_like(image)
    for r in range(image.shape[0]):
        for col in range(image.shape[1]):
            if 0 <= col - dx < image.shape[1]:
                out[r, col] = image[r, col - dx]
    return out


def test_model_shapes_and_layer_order() -> None:
    model = make_model(0)
    assert not model.training
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 8, 8]
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_make_model_is_deterministic_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = make_model(5), make_model(5), make_model(6)
    assert torch.rand(1) == expected_next
    for (name, pa), pb, pc in zip(a.named_parameters(), b.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pb), name
        assert not torch.equal(pa, pc), name


def test_model_state_round_trip_is_exact() -> None:
    model = make_model(3)
    state = model_state(model)
    assert all(isinstance(v, np.ndarray) for v in state.values())
    rebuilt = model_from_state(state)
    assert not rebuilt.training
    for (name, p), q in zip(model.state_dict().items(), rebuilt.state_dict().values(), strict=True):
        assert torch.equal(p, q), name
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model(x), rebuilt(x))


@pytest.mark.parametrize("case", cnn.conv_filters_cases(seed=0, count=6))
def test_conv_filters_are_the_parameters(case) -> None:
    model, layer = case["model"], case["layer"]
    weight = [model.conv1, model.conv2, model.conv3][layer - 1].weight
    np.testing.assert_array_equal(cnn.conv_filters(**case), weight.detach().numpy())


def test_conv_filters_cover_every_layer_and_reject_others() -> None:
    assert {c["layer"] for c in cnn.conv_filters_cases(seed=0, count=3)} == {1, 2, 3}
    with pytest.raises(ValueError):
        cnn.conv_filters(make_model(0), 4)


@pytest.mark.parametrize("case", cnn.feature_maps_cases(seed=1, count=4))
def test_feature_maps_match_manual_ops(case) -> None:
    maps = cnn.feature_maps(**case)
    expected = _manual_feature_maps(case["model"], case["image"])
    assert [m.shape for m in maps] == [(4, 28, 28), (8, 14, 14), (8, 7, 7)]
    for got, want in zip(maps, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("case", cnn.shift_image_cases(seed=2, count=10))
def test_shift_matches_naive_loop(case) -> None:
    got = cnn.shift_image(**case)
    assert got.shape == case["image"].shape and got.dtype == case["image"].dtype
    np.testing.assert_array_equal(got, _naive_shift(case["image"], case["dx"]))


def test_shift_edges() -> None:
    image = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(cnn.shift_image(image, 0), image)
    assert not cnn.shift_image(image, 4).any() and not cnn.shift_image(image, -7).any()
    dxs = {c["dx"] for c in cnn.shift_image_cases(seed=2, count=10)}
    assert 0 in dxs and min(dxs) < 0 < max(dxs)


@pytest.mark.parametrize("case", cnn.occlusion_maps_cases(seed=3, count=4))
def test_occlusion_matches_naive_loop(case) -> None:
    prob_target, max_prob, label = cnn.occlusion_maps(**case)
    want_target, want_max, want_label = _naive_occlusion(**case)
    n = (28 - case["patch"]) // case["stride"] + 1
    assert prob_target.shape == max_prob.shape == label.shape == (n, n)
    assert label.dtype == np.int64
    np.testing.assert_allclose(prob_target, want_target, atol=1e-6)
    np.testing.assert_allclose(max_prob, want_max, atol=1e-6)
    np.testing.assert_array_equal(label, want_label)


def test_occlusion_first_case_is_the_spec_setting() -> None:
    cases = cnn.occlusion_maps_cases(seed=4, count=5)
    first = cases[0]
    assert (first["target"], first["patch"], first["stride"], first["fill"]) == (6, 6, 2, 0.5)
    assert {(c["patch"], c["stride"]) for c in cases[1:]} != {(6, 2)}


def test_synthetic_digit_is_deterministic_and_in_range() -> None:
    a = cnn.synthetic_digit(6, seed=1)
    assert a.shape == (28, 28) and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0 and a.max() > 0.5
    np.testing.assert_array_equal(a, cnn.synthetic_digit(6, seed=1))
    assert not np.array_equal(a, cnn.synthetic_digit(6, seed=2))
    assert not np.array_equal(a, cnn.synthetic_digit(8, seed=1))
    shifted = cnn.synthetic_digit(1, seed=1, shift=-3)
    np.testing.assert_array_equal(shifted, _naive_shift(cnn.synthetic_digit(1, seed=1), -3))


def _assert_same(a, b) -> None:
    if isinstance(a, torch.nn.Module):
        for (name, x), y in zip(model_state(a).items(), model_state(b).values(), strict=True):
            np.testing.assert_array_equal(x, y, err_msg=name)
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make_cases",
    [cnn.conv_filters_cases, cnn.feature_maps_cases, cnn.shift_image_cases, cnn.occlusion_maps_cases],
)
def test_cases_are_deterministic(make_cases) -> None:
    for a, b in zip(make_cases(11, 3), make_cases(11, 3), strict=True):
        assert a.keys() == b.keys()
        for key in a:
            _assert_same(a[key], b[key])
