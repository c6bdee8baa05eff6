"""The grader's own small CNN for HW3 problems 1 and 2.

Shared by the reference and by the code that rebuilds models inside the student
sandbox, so it imports nothing from `reference`. Models are never trained: weights
come from a seeded generator, and the same seed always gives the same model without
touching torch's global random state.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

IMAGE_SIZE = 28
CHANNELS = (1, 4, 8, 8)
NUM_CLASSES = 10


class SmallCNN(nn.Module):
    """Three blocks conv(3×3, padding 1) → ReLU → MaxPool2d(2), then a linear layer.

    Every block's modules are separate attributes, registered in the order they run
    (conv1, relu1, pool1, conv2, …), so `model.modules()` and `model.children()` list
    the convolutions in forward order. 28×28 → 14 → 7 → 3.
    """

    def __init__(self) -> None:
        super().__init__()
        for i, (c_in, c_out) in enumerate(zip(CHANNELS, CHANNELS[1:]), start=1):
            setattr(self, f"conv{i}", nn.Conv2d(c_in, c_out, kernel_size=3, padding=1))
            setattr(self, f"relu{i}", nn.ReLU())
            setattr(self, f"pool{i}", nn.MaxPool2d(2))
        self.flatten = nn.Flatten()
        side = IMAGE_SIZE // 2 // 2 // 2
        self.fc = nn.Linear(CHANNELS[-1] * side * side, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.children():
            x = module(x)
        return x


def _uninitialised_model() -> SmallCNN:
    """A SmallCNN with unset weights, built without drawing from the global generator."""
    with torch.device("meta"):
        model = SmallCNN()
    return model.to_empty(device="cpu")


def make_model(seed: int) -> SmallCNN:
    """A SmallCNN in eval mode with weights drawn from `torch.Generator(seed)`.

    Weights are normal with std sqrt(2 / fan_in) (He scaling) so activations keep
    their size through the layers and the softmax is not saturated; biases are
    normal × 0.1.
    """
    generator = torch.Generator().manual_seed(seed)
    model = _uninitialised_model()
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=generator)
            if name.endswith("weight"):
                fan_in = param[0].numel()
                param.copy_(noise * (2.0 / fan_in) ** 0.5)
            else:
                param.copy_(noise * 0.1)
    return model.eval()


def model_state(model: nn.Module) -> dict[str, np.ndarray]:
    return {name: t.detach().cpu().numpy().copy() for name, t in model.state_dict().items()}


def model_from_state(state: dict[str, np.ndarray]) -> SmallCNN:
    model = _uninitialised_model()
    model.load_state_dict({name: torch.from_numpy(np.array(v)) for name, v in state.items()})
    return model.eval()
