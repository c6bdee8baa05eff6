"""The boundary between the grader and student code: values as JSON, arrays as `.npy` bytes.

Two directions, two levels of trust:
- `encode_value` runs in the sandboxed child and turns whatever the student left behind into
  plain JSON; `decode_value` runs in the grader and accepts only that plain form, with exact
  builtin types, bounded sizes and `np.load(allow_pickle=False)`. Nothing is ever unpickled.
- `encode_args` (grader) and `decode_args` (worker, before any student code runs) carry the
  hidden inputs the grader calls student functions on: arrays, tensors and the grader's CNN.
"""

from __future__ import annotations

import base64
import io
import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_ARRAY_BYTES = 16 * 2**20
MAX_STRING = 10_000
MAX_ITEMS = 100_000
MAX_DEPTH = 8
_NUMERIC_KINDS = "biuf"


@dataclass(frozen=True)
class Unreadable:
    """A value the child could not or would not turn into plain data; `why` is shown to the student."""

    why: str


class DecodeError(ValueError):
    """Data from the child that is not in the plain form; never a student's mistake alone."""


def _npy_bytes(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _check_header(data: io.BytesIO) -> None:
    """Refuse a header that declares more data than the limit before numpy allocates it."""
    version = np.lib.format.read_magic(data)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(data)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(data)
    else:
        raise ValueError(f".npy format version {version} is not accepted")
    if dtype.hasobject:
        raise ValueError("object arrays are not accepted")
    if math.prod(shape) * dtype.itemsize > MAX_ARRAY_BYTES:
        raise ValueError(f"the header declares {shape} {dtype}, more than {MAX_ARRAY_BYTES} bytes")
    data.seek(0)


def _load_npy(text: Any) -> np.ndarray:
    if type(text) is not str or len(text) > MAX_ARRAY_BYTES * 4 // 3 + 1024:
        raise DecodeError("array payload is not a bounded string")
    try:
        data = io.BytesIO(base64.b64decode(text, validate=True))
        _check_header(data)
        array = np.load(data, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DecodeError(f"array payload is not a valid .npy: {exc}") from None
    if type(array) is not np.ndarray or array.dtype.kind not in _NUMERIC_KINDS:
        raise DecodeError(f"array payload has dtype {getattr(array, 'dtype', '?')}, not a numeric one")
    return array


# ---------------------------------------------------------------- child side (untrusted process)

def _tensor_to_numpy(obj: Any) -> np.ndarray | None:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Tensor):
        try:
            return obj.detach().cpu().numpy()
        except (TypeError, RuntimeError):  # bfloat16, sparse, ...: numpy has no such array
            return obj.detach().cpu().to_dense().double().numpy() if obj.is_floating_point() else None
    return None


def encode_value(obj: Any, depth: int = 0) -> Any:
    """Plain JSON for a student's value; anything else becomes {"unreadable": why}."""
    kind = type(obj)
    if obj is None or kind in (bool, float):
        return obj
    if kind is int:
        return obj if abs(obj) < 2**63 else float(obj)
    if kind is str:
        return obj if len(obj) <= MAX_STRING else {"unreadable": f"a string of {len(obj)} characters (the limit is {MAX_STRING})"}
    if isinstance(obj, np.generic) and obj.dtype.kind in _NUMERIC_KINDS:
        return encode_value(obj.item(), depth)
    array = _tensor_to_numpy(obj)
    if array is None and isinstance(obj, np.ndarray):
        array = np.array(obj, copy=True)  # a subclass becomes a plain array
    if array is not None:
        if array.dtype.kind not in _NUMERIC_KINDS:
            return {"unreadable": f"an array of dtype {array.dtype} (numbers were expected)"}
        if array.nbytes > MAX_ARRAY_BYTES:
            return {"unreadable": f"an array of {array.nbytes} bytes (the limit is {MAX_ARRAY_BYTES})"}
        return {"npy": _npy_bytes(array.copy(order="C"))}
    if kind in (list, tuple):
        if depth >= MAX_DEPTH or len(obj) > MAX_ITEMS:
            return {"unreadable": "a list nested too deep or too long"}
        return {"list": [encode_value(item, depth + 1) for item in obj]}
    return {"unreadable": f"an object of type {kind.__module__}.{kind.__qualname__}"}


# ---------------------------------------------------------------- grader side (trusted process)

def decode_value(data: Any, depth: int = 0) -> Any:
    """The plain value: None, bool, int, float, str, list or numeric ndarray; or `Unreadable`."""
    kind = type(data)
    if data is None or kind in (bool, int, float):
        return data
    if kind is str:
        if len(data) > MAX_STRING:
            raise DecodeError("string longer than the limit")
        return data
    if kind is not dict or len(data) != 1 or depth > MAX_DEPTH:
        raise DecodeError(f"unexpected {kind.__name__} in a value")
    (tag, payload), = data.items()
    if tag == "npy":
        return _load_npy(payload)
    if tag == "list" and type(payload) is list and len(payload) <= MAX_ITEMS:
        return [decode_value(item, depth + 1) for item in payload]
    if tag == "unreadable" and type(payload) is str:
        return Unreadable(payload[:300])
    raise DecodeError(f"unexpected tag {tag!r} in a value")


def contains_unreadable(value: Any) -> Unreadable | None:
    if isinstance(value, Unreadable):
        return value
    if type(value) is list:
        for item in value:
            found = contains_unreadable(item)
            if found:
                return found
    return None


# ---------------------------------------------------------------- hidden inputs (grader -> worker)

def encode_args(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {name: _encode_arg(value) for name, value in kwargs.items()}


def _encode_arg(value: Any) -> Any:
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"npy": _npy_bytes(value)}
    if type(value) in (list, tuple):
        return {"list": [_encode_arg(v) for v in value], "tuple": type(value) is tuple}
    from grader.fixtures import SmallCNN, model_state  # torch only when a case holds torch objects
    import torch

    if isinstance(value, torch.Tensor):
        return {"tensor": _npy_bytes(value.detach().cpu().numpy())}
    if isinstance(value, SmallCNN):
        return {"small_cnn": {k: _npy_bytes(v) for k, v in model_state(value).items()}}
    raise TypeError(f"cannot send a {type(value).__name__} to student code")


def decode_args(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {name: _decode_arg(value) for name, value in kwargs.items()}


def _decode_arg(value: Any) -> Any:
    if type(value) is not dict:
        return value
    if "npy" in value:
        return _load_npy(value["npy"])
    if "list" in value:
        items = [_decode_arg(v) for v in value["list"]]
        return tuple(items) if value.get("tuple") else items
    from grader.fixtures import model_from_state
    import torch

    if "tensor" in value:
        return torch.from_numpy(_load_npy(value["tensor"]).copy())
    if "small_cnn" in value:
        return model_from_state({k: _load_npy(v) for k, v in value["small_cnn"].items()})
    raise DecodeError(f"unknown argument encoding {sorted(value)}")


def needs_torch(encoded: Any) -> bool:
    """Whether decoding these arguments imports torch (so a worker preloads it once)."""
    if type(encoded) is dict:
        return "tensor" in encoded or "small_cnn" in encoded or any(needs_torch(v) for v in encoded.values())
    if type(encoded) is list:
        return any(needs_torch(v) for v in encoded)
    return False
