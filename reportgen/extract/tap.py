"""A forward pass that stops once the last layer's attention weights exist.

The site needs each layer's attention weights and nothing the model computes after the last of them:
the last layer's output projection and feed-forward block, a pooler. In MiniLM (6 layers) that tail
is about an eighth of the forward pass.

``AttentionTap`` learns, on one whole forward pass, which module hands out each layer's weights: the
first module whose output tuple holds the very tensor the model returns in ``output.attentions``.
From then on forward hooks on those modules keep the weights, and the last layer's hook ends the pass
by raising ``_Complete``. The weights are the tensors the whole pass would return, bit for bit.

Every pass runs whole when the modules cannot be identified: weights shared across layers (one
module gives several layers), a model or wrapper that copies the weights, or a model that is not a
torch module.
"""
from __future__ import annotations


class _Complete(Exception):
    """Raised by the last layer's hook: the rest of the forward pass is not needed."""


class AttentionTap:
    """Call with a model's keyword inputs; returns per-layer attention tensors (None when the model gave none).

    ``cuts`` tells whether passes stop after the last attention (known after the first call).
    ``close()`` removes the hooks; a hook does nothing outside a call, so a tap left open is harmless.
    """

    def __init__(self, model, layers: int):
        self.model = model
        self.layers = layers
        self.sources: list[tuple[object, int]] | None = None  # per layer (module, index in its output tuple)
        self.learned = False
        self.active = False
        self.kept: list = []
        self.handles: list = []

    @property
    def cuts(self) -> bool:
        return self.sources is not None

    def __call__(self, inputs: dict):
        if not self.learned:
            return self._learn(inputs)
        if self.sources is None:
            return self._whole(inputs)
        self.kept = [None] * self.layers
        self.active = True
        try:
            output = self.model(**inputs, output_attentions=True)
        except _Complete:
            return tuple(self.kept)
        finally:
            self.active = False
        return getattr(output, "attentions", None)  # the last hook never ran: what the model returned

    def _whole(self, inputs: dict):
        return getattr(self.model(**inputs, output_attentions=True), "attentions", None)

    def _learn(self, inputs: dict):
        """One whole pass that also records which module returned each layer's weights."""
        import torch  # deferred: torch loads only when a model runs

        if not isinstance(self.model, torch.nn.Module):
            self.learned = True
            return self._whole(inputs)
        returned: list[tuple[object, int, object]] = []  # (module, index, tensor) in the order modules returned
        calls: dict[int, int] = {}  # id(module) -> times it returned a tuple

        def record(module, args, output):
            if isinstance(output, (tuple, list)):
                calls[id(module)] = calls.get(id(module), 0) + 1
                returned.extend((module, index, value) for index, value in enumerate(output)
                                if isinstance(value, torch.Tensor))

        handles = [module.register_forward_hook(record) for module in self.model.modules()]
        try:
            attentions = self._whole(inputs)  # a pass that raises teaches nothing: the next call learns again
        finally:
            for handle in handles:
                handle.remove()
        self.learned = True
        if attentions is not None and len(attentions) == self.layers:
            self.sources = find_sources(returned, attentions, calls)
        if self.sources is not None:
            for layer, (module, index) in enumerate(self.sources):
                self.handles.append(module.register_forward_hook(self._keeper(layer, index)))
        return attentions

    def _keeper(self, layer: int, index: int):
        last = layer == self.layers - 1

        def hook(module, args, output):
            if not self.active:
                return
            self.kept[layer] = output[index]
            if last:
                raise _Complete

        return hook

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []
        self.sources = None


def find_sources(returned: list, attentions, calls: dict[int, int]) -> list[tuple[object, int]] | None:
    """Per layer, the first (module, index) in ``returned`` whose tensor is that layer's attention.

    ``returned``: (module, index, tensor) of every tuple a module returned, in order; ``calls``: id(module)
    -> number of those returns. None unless every layer has a source, each source module ran once, and
    they ran in layer order (so stopping after the last one's first return loses nothing).
    """
    sources, positions = [], []
    for attention in attentions:
        found = next(((position, module, index) for position, (module, index, value) in enumerate(returned)
                      if value is attention), None)
        if found is None:
            return None
        positions.append(found[0])
        sources.append((found[1], found[2]))
    modules = [id(module) for module, _ in sources]
    if len(set(modules)) != len(modules) or positions != sorted(positions) or any(calls.get(m) != 1 for m in modules):
        return None
    return sources
