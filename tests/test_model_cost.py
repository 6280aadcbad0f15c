"""Closed forms of the model's design choices, checked against the modules themselves."""
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from mmdiff_lite.model import (VideoConv, audio_encoder_chain, audio_receptive_fields, build_model, conv3d_equivalent,
                               conv_cost, measured_receptive_field, model_config, model_rsmma_costs, receptive_field,
                               rsmma_modules)
from mmdiff_lite.model.inspect import gradient_support


@pytest.mark.parametrize("cin,cout", [(3, 16), (32, 32), (64, 128), (128, 128)])
def test_2d1d_vs_3d_cost_closed_form(cin, cout):
    positions = 4 * 6 * 6  # F x H x W output voxels
    factorised, full = VideoConv(cin, cout), conv3d_equivalent(cin, cout)
    for kind, module in (("2d+1d", factorised), ("3d", full)):
        cost = conv_cost(kind, cin, cout, positions=positions)
        assert cost["params"] == sum(p.numel() for p in module.parameters())
        with FlopCounterMode(display=False) as fc:
            module(torch.randn(1, cin, 4, 6, 6))
        assert fc.get_total_flops() == 2 * cost["macs"]  # a MAC is two FLOPs
    ratio = conv_cost("3d", cin, cout)["params"] / conv_cost("2d+1d", cin, cout)["params"]
    assert ratio > (2.0 if cin == cout else 1.0)  # 27 C^2 vs 12 C^2 at equal width: 2.25x


def test_2d1d_has_the_receptive_field_of_a_3d_conv():
    torch.manual_seed(0)
    factorised, full = VideoConv(1, 1), conv3d_equivalent(1, 1)
    for m in (factorised, full):
        for p in m.parameters():
            p.data.abs_().add_(0.1)  # positive weights: no accidental cancellation
    x = torch.rand(1, 1, 7, 7, 7)
    for m in (factorised, full):
        support = gradient_support(m, x, (0, 0, 3, 3, 3))[0, 0]
        expected = torch.zeros(7, 7, 7, dtype=torch.bool)
        expected[2:5, 2:5, 2:5] = True
        assert torch.equal(support, expected)  # exactly the 3 x 3 x 3 neighbourhood


def test_receptive_field_known_answers():
    assert receptive_field([(3, d, 1) for d in (1, 2, 4, 8)]) == 1 + 2 * 15  # WaveNet-style stack
    assert receptive_field([(3, 1, 1), (4, 1, 4), (3, 1, 1)]) == 1 + 2 + 3 + 2 * 4


@pytest.mark.parametrize("preset", ["tiny", "ref-small", "paper"])
def test_dilated_audio_stack_receptive_field_measured(preset):
    model = build_model(preset)
    chain = audio_encoder_chain(model)
    closed = audio_receptive_fields(model.config)
    # prefixes of the chain, one per encoder block (a down block adds a convolution, then a pooling)
    conv = [isinstance(layer, torch.nn.Conv1d) for layer in chain]
    ends = [i + 2 if i + 1 < len(chain) and not conv[i + 1] else i + 1 for i in range(len(chain)) if conv[i]]
    assert len(ends) == len(closed)
    for (name, rf), end in zip(closed, ends):
        length = 4 * rf + 64 * model.config.audio_rate ** model.config.num_levels
        assert measured_receptive_field(chain[:end], length) == rf, name
    assert closed[-1][1] > closed[0][1]


def test_rsmma_cost_goal_at_paper_scale():
    cfg = model_config("paper")
    rows = model_rsmma_costs(cfg)
    blocks = [m for _, m in rsmma_modules(build_model(cfg))]
    assert [c.window for _, c in rows] == [m.window for m in blocks]  # one row per RS-MMA block, in call order
    dense = sum(c.macs("dense") for _, c in rows)
    windowed = sum(c.macs("windowed") for _, c in rows)
    assert windowed <= dense / 2  # the whole model's windowed RS-MMA costs at most half the dense one
    assert {c.saving for _, c in rows} == {16.0, 4.0, 2.0, 1.0}  # F / S for S = 1, 4, 8 and the full middle
