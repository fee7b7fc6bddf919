"""Attention rollout (Abnar & Zuidema 2020) on hand-made matrices with hand-computed answers, through both
the build's code (``analysis.batched.batch_rollout`` on a batch of one) and the tests-only numpy reference."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from reference import residual_attention
from reference import rollout as reference_rollout
from reportgen.analysis.batched import batch_rollout


def production_rollout(att: np.ndarray) -> np.ndarray:
    """The build's rollout of one example: ``[L, H, n, n]`` -> ``[L, n, n]``."""
    return batch_rollout([torch.from_numpy(np.asarray(layer)[None]) for layer in att])[0].numpy()


@pytest.fixture(params=[reference_rollout, production_rollout], ids=["reference", "production"])
def rollout(request):
    return request.param


def test_residual_attention_2x2_by_hand():
    # one head: A = [[0.2, 0.8], [0.6, 0.4]]; 0.5 A + 0.5 I = [[0.6, 0.4], [0.3, 0.7]] (rows already sum to 1)
    a = np.array([[[0.2, 0.8], [0.6, 0.4]]])
    assert np.allclose(residual_attention(a), [[0.6, 0.4], [0.3, 0.7]])


def test_heads_are_averaged_before_the_residual():
    # heads [[1,0],[0,1]] and [[0,1],[1,0]] average to all 0.5; 0.5 * 0.5 + 0.5 I = [[0.75, 0.25], [0.25, 0.75]]
    a = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])
    assert np.allclose(residual_attention(a), [[0.75, 0.25], [0.25, 0.75]])


def test_rows_are_renormalised():
    # rows that do not sum to 1 (e.g. dequantised attention): [[0.5, 0.3], [0, 0.8]] -> 0.5 A + 0.5 I
    # = [[0.75, 0.15], [0, 0.9]] -> rows / [0.9, 0.9] = [[5/6, 1/6], [0, 1]]
    a = np.array([[[0.5, 0.3], [0.0, 0.8]]])
    assert np.allclose(residual_attention(a), [[5 / 6, 1 / 6], [0.0, 1.0]])


def test_two_layer_rollout_2x2_by_hand(rollout):
    # layer 0: Â_0 = [[0.6, 0.4], [0.3, 0.7]] (from A_0 above); layer 1: A_1 = [[0, 1], [1, 0]] ->
    # Â_1 = [[0.5, 0.5], [0.5, 0.5]]. R_0 = Â_0; R_1 = Â_1 Â_0 = [[0.45, 0.55], [0.45, 0.55]]
    att = np.array([[[[0.2, 0.8], [0.6, 0.4]]], [[[0.0, 1.0], [1.0, 0.0]]]])
    r = rollout(att)
    assert r.shape == (2, 2, 2)
    assert np.allclose(r[0], [[0.6, 0.4], [0.3, 0.7]])
    assert np.allclose(r[1], [[0.45, 0.55], [0.45, 0.55]])


def test_order_is_later_layer_on_the_left_3x3(rollout):
    # A_0: everything attends to token 0; A_1: identity. Â_0 = 0.5 E0 + 0.5 I with E0 the all-to-0 matrix:
    # [[1, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]]; Â_1 = I. R_1 = I Â_0 = Â_0.
    # Swapped (A_0 identity, A_1 all-to-0): R_1 = Â_1 I = the same matrix; with a non-commuting pair the
    # order shows: A_0 all-to-0, A_1 all-to-2:
    # Â_1 = [[0.5, 0, 0.5], [0, 0.5, 0.5], [0, 0, 1]];
    # R_1 = Â_1 Â_0 = [[0.5*1 + 0.5*0.5, 0, 0.5*0.5], [0.5*0.5 + 0.5*0.5, 0.5*0.5, 0.5*0.5], [0.5, 0, 0.5]]
    #     = [[0.75, 0, 0.25], [0.5, 0.25, 0.25], [0.5, 0, 0.5]]
    to0 = np.zeros((3, 3))
    to0[:, 0] = 1
    to2 = np.zeros((3, 3))
    to2[:, 2] = 1
    r = rollout(np.array([[to0], [to2]]))
    assert np.allclose(r[0], [[1, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]])
    assert np.allclose(r[1], [[0.75, 0, 0.25], [0.5, 0.25, 0.25], [0.5, 0, 0.5]])
    # the other order (Â_0 Â_1) would give a different matrix: the product is not symmetric in the layers
    other = rollout(np.array([[to2], [to0]]))[1]
    assert not np.allclose(other, r[1])


def test_rows_of_every_layer_sum_to_one_on_random_attention(rollout):
    rng = np.random.default_rng(0)
    att = rng.random((4, 3, 7, 7))
    att /= att.sum(-1, keepdims=True)
    r = rollout(att)
    assert np.allclose(r.sum(-1), 1.0)
    assert (r >= 0).all()


def test_production_equals_reference_on_random_attention():
    rng = np.random.default_rng(1)
    att = rng.random((3, 2, 6, 6)).astype(np.float32)
    att /= att.sum(-1, keepdims=True)
    np.testing.assert_allclose(production_rollout(att), reference_rollout(att), rtol=0, atol=1e-12)
