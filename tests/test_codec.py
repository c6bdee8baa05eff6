"""The boundary: encode_value (child) and decode_value (grader), and the hidden inputs sent to workers."""

from __future__ import annotations

import base64
import io
import json
import math
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.codec import (
    MAX_STRING,
    DecodeError,
    Unreadable,
    contains_unreadable,
    decode_args,
    decode_value,
    encode_args,
    encode_value,
    needs_torch,
)
from grader.fixtures import SmallCNN, make_model


def through_json(value: object) -> object:
    """What the grader sees: encoded in the child, sent as JSON text, decoded."""
    return decode_value(json.loads(json.dumps(encode_value(value))))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class WritesMarker:
    """Unpickling this creates a file: proof that a payload was (or was not) unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def pickled_payload(marker: Path) -> str:
    return b64(pickle.dumps(WritesMarker(marker)))


def is_unreadable(encoded: object) -> bool:
    return type(encoded) is dict and set(encoded) == {"unreadable"} and type(encoded["unreadable"]) is str


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("value", [0, -7, 2**62, 1.5, -0.25, 1e300, 5e-324, "", "γ ≈ ½", True, False, None])
def test_scalars_round_trip_with_their_exact_type(value: object) -> None:
    back = through_json(value)
    assert back == value and type(back) is type(value)


def test_int_too_large_for_64_bits_becomes_a_float() -> None:
    back = through_json(2**70)
    assert type(back) is float and back == float(2**70)


def test_nan_and_infinities_round_trip() -> None:
    assert math.isnan(through_json(float("nan")))
    assert through_json(float("inf")) == math.inf
    assert through_json([float("-inf")]) == [-math.inf]


def test_nested_lists_and_tuples_round_trip_as_lists() -> None:
    value = [1, [2.5, "a", (None, True)], [], ("x",)]
    assert through_json(value) == [1, [2.5, "a", [None, True]], [], ["x"]]


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int8", "int64", "uint16", "bool"])
def test_numpy_arrays_round_trip_with_dtype_and_shape(dtype: str) -> None:
    array = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    back = through_json(array)
    assert type(back) is np.ndarray
    assert back.dtype == np.dtype(dtype) and back.shape == (3, 4)
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("value", [np.array(3.25), torch.tensor(3.25)], ids=["numpy", "torch"])
def test_zero_dimensional_array_keeps_its_shape(value: object) -> None:
    back = through_json(value)
    assert back.shape == () and back == 3.25


def test_array_edge_shapes_round_trip() -> None:
    empty = through_json(np.zeros((0, 5)))
    assert empty.shape == (0, 5)
    transposed = np.arange(6.0).reshape(2, 3).T  # not C-contiguous
    np.testing.assert_array_equal(through_json(transposed), transposed)


def test_array_with_nan_round_trips() -> None:
    back = through_json(np.array([1.0, np.nan, -np.inf]))
    assert back[0] == 1.0 and np.isnan(back[1]) and back[2] == -np.inf


def test_array_inside_a_list_round_trips() -> None:
    back = through_json([np.ones(2), 3])
    assert type(back) is list and back[1] == 3
    np.testing.assert_array_equal(back[0], [1.0, 1.0])


def test_ndarray_subclass_becomes_a_plain_array() -> None:
    masked = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    back = through_json(masked)
    assert type(back) is np.ndarray and back.shape == (2,)


# ---------------------------------------------------------------- numpy scalars and tensors (child side)


@pytest.mark.parametrize("scalar, plain", [
    (np.float64(2.5), 2.5), (np.float32(0.5), 0.5), (np.int32(7), 7), (np.int64(-3), -3),
    (np.uint8(200), 200), (np.bool_(True), True),
])
def test_numpy_scalars_become_plain_numbers(scalar: object, plain: object) -> None:
    encoded = encode_value(scalar)
    assert encoded == plain and type(encoded) is type(plain)
    json.dumps(encoded)  # plain JSON


def test_torch_tensors_become_arrays() -> None:
    tensor = torch.tensor([[1.0, 2.0], [3.0, 4.5]], requires_grad=True) * 2
    back = through_json(tensor)
    assert type(back) is np.ndarray and back.dtype == np.float32
    np.testing.assert_array_equal(back, [[2.0, 4.0], [6.0, 9.0]])
    ints = through_json(torch.arange(4))
    assert ints.dtype == np.int64 and ints.tolist() == [0, 1, 2, 3]


def test_list_of_tensors_becomes_a_list_of_arrays() -> None:
    back = through_json([torch.zeros(2), torch.ones(1, 3)])
    assert [a.shape for a in back] == [(2,), (1, 3)]


def test_bfloat16_tensor_comes_back_as_its_numbers_not_an_exception() -> None:
    decoded = decode_value(json.loads(json.dumps(encode_value(torch.tensor([1.5, -2.0], dtype=torch.bfloat16)))))
    assert decoded.tolist() == [1.5, -2.0]


def test_sparse_tensor_comes_back_dense() -> None:
    sparse = torch.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    decoded = decode_value(json.loads(json.dumps(encode_value(sparse))))
    assert decoded.tolist() == [[0.0, 2.0], [3.0, 0.0]]


# ---------------------------------------------------------------- what the child refuses to encode


class AlwaysEqual(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


class FloatSub(float):
    pass


@pytest.mark.parametrize("value", [
    AlwaysEqual(3), FloatSub(1.0), {"a": 1}, lambda x: x, {1, 2}, object(), b"bytes", 1 + 2j, [1, {"k": 2}],
], ids=["int-subclass", "float-subclass", "dict", "lambda", "set", "object", "bytes", "complex", "list-with-dict"])
def test_objects_that_are_not_plain_data_are_unreadable(value: object) -> None:
    encoded = encode_value(value)
    if type(value) is list:
        assert encoded["list"][0] == 1 and is_unreadable(encoded["list"][1])
    else:
        assert is_unreadable(encoded)
    back = decode_value(json.loads(json.dumps(encoded)))
    found = contains_unreadable(back)
    assert isinstance(found, Unreadable) and found.why


def test_array_of_strings_or_objects_is_unreadable() -> None:
    assert is_unreadable(encode_value(np.array(["a", "b"])))
    assert is_unreadable(encode_value(np.array([1, "b"], dtype=object)))
    assert is_unreadable(encode_value(np.array([1 + 1j])))


def test_string_over_the_limit_is_unreadable_in_the_child() -> None:
    assert encode_value("x" * MAX_STRING) == "x" * MAX_STRING
    assert is_unreadable(encode_value("x" * (MAX_STRING + 1)))


def test_list_nested_too_deep_is_cut_off_and_still_decodes() -> None:
    deep: list = [1]
    for _ in range(30):
        deep = [deep]
    back = through_json(deep)
    assert isinstance(contains_unreadable(back), Unreadable)


def test_list_that_contains_itself_does_not_recurse_forever() -> None:
    loop: list = [1]
    loop.append(loop)
    assert isinstance(contains_unreadable(through_json(loop)), Unreadable)


# ---------------------------------------------------------------- what the grader refuses to decode


@pytest.mark.parametrize("data", [
    {"pickle": "abc"}, {"npy": "", "list": []}, {}, {"list": "not a list"}, {"unreadable": 5},
    {"LIST": []}, [1, 2], ("t",), {"list": [{"evil": 1}]},
], ids=["unknown-tag", "two-tags", "empty", "list-not-list", "unreadable-not-text", "tag-case", "bare-list",
        "tuple", "nested-unknown"])
def test_decode_rejects_anything_but_the_plain_form(data: object) -> None:
    with pytest.raises(DecodeError):
        decode_value(data)


def test_decode_rejects_an_oversized_string() -> None:
    assert decode_value("y" * MAX_STRING) == "y" * MAX_STRING
    with pytest.raises(DecodeError):
        decode_value("y" * (MAX_STRING + 1))


def test_decode_rejects_nesting_deeper_than_the_child_sends() -> None:
    data: object = 1
    for _ in range(50):
        data = {"list": [data]}
    with pytest.raises(DecodeError):
        decode_value(data)


def test_decode_rejects_object_dtype_npy_bytes() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DecodeError):
        decode_value({"npy": b64(buffer.getvalue())})


def test_decode_rejects_string_dtype_npy_bytes() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array(["abc", "de"]), allow_pickle=False)
    with pytest.raises(DecodeError):
        decode_value({"npy": b64(buffer.getvalue())})


@pytest.mark.parametrize("payload", ["not base64!!", b64(b"\x93NUMPY garbage"), b64(b""), 12345],
                         ids=["bad-base64", "bad-header", "empty", "not-text"])
def test_decode_rejects_malformed_npy_payloads(payload: object) -> None:
    with pytest.raises(DecodeError):
        decode_value({"npy": payload})


def test_pickled_payload_is_rejected_without_running_it(tmp_path: Path) -> None:
    control = tmp_path / "control"
    pickle.loads(base64.b64decode(pickled_payload(control))).close()
    assert control.exists()  # the payload is live: unpickling it does write its marker

    marker = tmp_path / "pwned"
    payload = pickled_payload(marker)
    for data in ({"npy": payload}, {"list": [{"npy": payload}]}):
        with pytest.raises(DecodeError):
            decode_value(data)
    for args in ({"x": {"npy": payload}}, {"x": {"tensor": payload}}, {"m": {"small_cnn": {"fc.weight": payload}}}):
        with pytest.raises(DecodeError):
            decode_args(args)
    assert not marker.exists()


def test_npz_archive_payload_is_rejected() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, a=np.ones(3))
    with pytest.raises(DecodeError):
        decode_value({"npy": b64(buffer.getvalue())})


def test_npy_header_claiming_a_huge_shape_is_a_decode_error() -> None:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }" % 2**57
    header += " " * (63 - len(header) % 64) + "\n"
    raw = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin-1") + b"\0" * 16
    with pytest.raises(DecodeError):
        decode_value({"npy": b64(raw)})


# ---------------------------------------------------------------- hidden inputs (grader -> worker)


def test_encode_args_round_trip_keeps_types() -> None:
    kwargs = {
        "rewards": [0.0, 1.5, np.float64(2.0)],
        "pair": (1, "two"),
        "gamma": np.float32(0.5),
        "x": np.arange(6, dtype=np.int16).reshape(2, 3),
        "flag": True,
        "nothing": None,
    }
    back = decode_args(json.loads(json.dumps(encode_args(kwargs))))
    assert back["rewards"] == [0.0, 1.5, 2.0]
    assert back["pair"] == (1, "two") and type(back["pair"]) is tuple
    assert back["gamma"] == 0.5 and type(back["gamma"]) is float
    assert back["x"].dtype == np.int16 and back["x"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["flag"] is True and back["nothing"] is None


def test_encode_args_round_trip_torch_tensor() -> None:
    tensor = torch.linspace(-1, 1, 10).reshape(2, 5)
    back = decode_args(json.loads(json.dumps(encode_args({"t": tensor}))))["t"]
    assert isinstance(back, torch.Tensor) and back.dtype == torch.float32
    assert torch.equal(back, tensor)
    back.add_(1)  # the decoded tensor is writable and separate
    assert tensor[0, 0].item() == -1.0


def test_small_cnn_round_trips_with_identical_outputs() -> None:
    model = make_model(3)
    encoded = json.loads(json.dumps(encode_args({"model": model, "images": [torch.zeros(1)]})))
    assert needs_torch(encoded)
    rebuilt = decode_args(encoded)["model"]
    assert isinstance(rebuilt, SmallCNN) and rebuilt is not model
    assert not rebuilt.training
    images = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(rebuilt(images), model(images))
    different = make_model(4)
    with torch.no_grad():
        assert not torch.equal(different(images), model(images))  # the comparison can fail


def test_plain_arguments_do_not_need_torch() -> None:
    assert not needs_torch(encode_args({"x": np.ones(2), "n": 3, "l": [1, (2, 3)]}))


def test_encode_args_refuses_objects_it_cannot_send() -> None:
    with pytest.raises(TypeError):
        encode_args({"f": lambda: 1})


def test_decode_args_rejects_an_unknown_encoding() -> None:
    with pytest.raises(DecodeError):
        decode_args({"x": {"mystery": 1}})
