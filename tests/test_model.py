"""The coupled U-Net: presets, parameter-count fidelity, shapes, inputs, timestep code, autocast."""
import math

import pytest
import torch

import mmdiff_lite as mm

from mmdiff_lite.model import (MODEL_PRESETS, build_model, model_config, parameter_table, timestep_embedding,
                               trace_shapes)
from mmdiff_lite.model.audio import dilation_schedule


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors: one thread is faster and immune to a busy machine's thread contention."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("preset,authors", [("paper", 133_675_524), ("ref-small", 1_708_964)])
def test_parameter_count_matches_authors_code(preset, authors):
    n = _n_params(build_model(preset))
    assert abs(n - authors) / authors < 0.005, (preset, n, authors)


def test_parameter_table_adds_up_and_paper_structure():
    model = build_model("paper")
    table = parameter_table(model)
    assert table[-1]["total"] == _n_params(model)
    groups = ("video", "audio", "video attention", "audio attention", "rs-mma", "t embedding")
    assert all(sum(r[g] for g in groups) == r["total"] for r in table)
    # The authors' layout: 3 encoder levels x 2 blocks + 3 x 3 decoder blocks with RS-MMA, plus the middle one.
    assert sum(1 for n, _ in model.named_modules() if type(_).__name__ == "RSMMA") == 3 * 2 + 3 * 3 + 1
    assert model.config.dropout == 0.1 and model.config.windows == (None, 1, 4, 8)


def test_presets_and_unknown_names():
    assert set(MODEL_PRESETS) == {"tiny", "small", "paper", "ref-small", "sr-paper", "sr-tiny"}
    from mmdiff_lite.model import model_preset_names

    assert model_preset_names("coupled") == ["tiny", "small", "paper", "ref-small"]
    cfg = model_config("tiny")
    assert cfg.video_shape == (16, 3, 16, 16) and cfg.audio_shape == (1, 4096) and cfg.audio_rate == 4
    assert cfg.dropout == 0.0
    assert [cfg.level_shapes(lv)[1] // cfg.num_frames for lv in range(3)] == [256, 64, 16]
    with pytest.raises(ValueError, match="tiny, small, paper, ref-small, sr-paper, sr-tiny"):
        build_model("huge")
    with pytest.raises(ValueError, match="valid options"):
        build_model("tiny", chanels=8)
    with pytest.raises(ValueError, match="shift"):
        build_model("tiny", shift="sometimes")


@pytest.mark.parametrize("preset", ["tiny", "ref-small", "small"])
def test_shapes_through_presets(preset):
    model = build_model(preset).eval()
    cfg = model.config
    rows = trace_shapes(model)
    f, c, h, w = cfg.video_shape
    by_name = {r["block"]: r for r in rows}
    assert by_name["out_video"]["video (F, C, H, W)"] == cfg.video_shape
    assert by_name["out_audio"]["audio (C, T)"] == cfg.audio_shape
    deepest = by_name["middle"]
    n = cfg.num_levels - 1
    assert deepest["video (F, C, H, W)"] == (f, cfg.level_channels(n), h >> n, w >> n)  # frames kept, 2x per level
    assert deepest["audio (C, T)"] == (cfg.level_channels(n), cfg.audio_shape[1] // cfg.audio_rate**n)
    x = {"video": torch.randn(2, *cfg.video_shape), "audio": torch.randn(2, *cfg.audio_shape)}
    with torch.no_grad():
        out = model(x, torch.tensor([0.0, 999.0]))
    assert out["video"].shape == x["video"].shape and out["audio"].shape == x["audio"].shape
    assert torch.count_nonzero(out["video"]) == 0  # zero-initialised output layers: a fresh model predicts 0


def test_bad_inputs_say_what_to_do():
    model = build_model("tiny")
    v, a = torch.randn(1, 16, 3, 16, 16), torch.randn(1, 1, 4096)
    with pytest.raises(ValueError, match="video of shape"):
        model({"video": v[:, :8], "audio": a}, torch.zeros(1))
    with pytest.raises(ValueError, match="audio of shape"):
        model({"video": v, "audio": a[..., :4000]}, torch.zeros(1))
    with pytest.raises(ValueError, match="t must have shape"):
        model({"video": v, "audio": a}, torch.zeros(3))
    with pytest.raises(ValueError, match="pair"):
        model(v, torch.zeros(1))


def test_timestep_embedding_closed_form():
    t = torch.tensor([0.0, 1.0, 2.5, 999.0])
    emb = timestep_embedding(t, 8)
    assert emb.shape == (4, 8)
    assert torch.equal(emb[0], torch.tensor([1.0] * 4 + [0.0] * 4))  # cos 0 = 1, sin 0 = 0
    w = torch.tensor([10000 ** (-i / 4) for i in range(4)])
    torch.testing.assert_close(emb[2], torch.cat([torch.cos(2.5 * w), torch.sin(2.5 * w)]))
    assert not torch.allclose(timestep_embedding(torch.tensor([3.0]), 8), timestep_embedding(torch.tensor([3.5]), 8))
    assert timestep_embedding(t, 7).shape == (4, 7)


def test_audio_dilations_double_and_wrap():
    model = build_model("paper")
    n = model.config.max_dilation_exp
    enc = [b[0].audio.conv_in.dilation[0] for b in model.down]
    assert enc == [2 ** ((i + 1) % (n + 1)) for i in range(len(enc))]  # 2, 4, ..., 2^N, 1, 2 (the authors start at 1)
    assert max(enc) == 2**n and dilation_schedule(n + 1, n) == 1
    assert all(m.padding[0] == m.dilation[0] for m in model.modules() if isinstance(m, torch.nn.Conv1d) and m.kernel_size == (3,))


def test_autocast_bfloat16_forward_and_backward():
    model = build_model("tiny")
    x = {"video": torch.randn(1, 16, 3, 16, 16), "audio": torch.randn(1, 1, 4096)}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x, torch.tensor([12.25]))
        loss = out["video"].float().square().mean() + out["audio"].float().square().mean()
    loss.backward()
    assert out["video"].shape == x["video"].shape and math.isfinite(loss.item())
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())


def test_cross_attention_false_has_no_rsmma_and_fewer_params():
    coupled, separate = build_model("tiny"), build_model("tiny", cross_attention=False)
    names = [n for n, _ in separate.named_modules()]
    assert not any(type(m).__name__ == "RSMMA" for m in separate.modules()) and names
    assert _n_params(separate) < _n_params(coupled)


def test_channels_last_layout_gives_the_same_function():
    a = build_model("tiny", channels_last=False)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in a.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    b = build_model("tiny", channels_last=True)
    b.load_state_dict(a.state_dict())
    x = {"video": torch.randn(2, 16, 3, 16, 16), "audio": torch.randn(2, 1, 4096)}
    t = torch.tensor([3.0, 700.0])
    oa = a(x, t, shift_generator=torch.Generator().manual_seed(1))
    ob = b(x, t, shift_generator=torch.Generator().manual_seed(1))
    for key in oa:
        torch.testing.assert_close(oa[key], ob[key], rtol=1e-4, atol=1e-5)


def test_every_parameter_learns_after_two_steps():
    """Zero-initialised output layers block gradients only until the first update. A layer that still has
    an exactly-zero gradient after two optimizer steps can never learn (e.g. two stacked zero layers)."""
    torch.manual_seed(0)
    model = mm.build_model("tiny")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = {"video": torch.randn(2, *model.config.video_shape), "audio": torch.randn(2, *model.config.audio_shape)}
    t = torch.tensor([10.0, 500.0])
    target = {k: torch.randn_like(v) for k, v in x.items()}
    for _ in range(3):
        opt.zero_grad()
        out = model(x, t, shift_generator=torch.Generator().manual_seed(0))
        sum(((out[k] - target[k]) ** 2).mean() for k in out).backward()
        dead = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
        opt.step()
    assert not dead, f"parameters that never receive a gradient: {dead}"


def test_trace_shapes_levels_input_channels_and_contents():
    """Up blocks receive their predecessor's channels plus the skip's; contents match the modules built."""
    model = build_model("tiny").eval()
    cfg = model.config
    rows = trace_shapes(model)
    by_name = {r["block"]: r for r in rows}
    skips = [(by_name["stem_video"], by_name["stem_audio"])] + [(by_name[f"down.{i}"],) * 2 for i in range(len(model.down))]
    prev = by_name["middle"]
    for i in range(len(model.up)):
        row, (skip_v, skip_a) = by_name[f"up.{i}"], skips.pop()
        c = prev["video (F, C, H, W)"][1] + skip_v["video (F, C, H, W)"][1]
        a = prev["audio (C, T)"][0] + skip_a["audio (C, T)"][0]
        assert row["in C (v, a)"] == f"{c}/{a}"  # concatenation along channels
        prev = row
    for r in rows:
        if r["video (F, C, H, W)"] is not None:
            lv = r["level (out)"]
            assert r["video (F, C, H, W)"][2] == cfg.video_shape[2] >> lv
    windows = [int(p.split("=")[1]) for r in rows for p in r["contents"].split(" + ") if p.startswith("RS-MMA")]
    assert windows == [m.window for _, m in mm.rsmma_modules(model)]
    n_down = sum(r["contents"].count("res (down)") for r in rows)
    n_up = sum(r["contents"].count("res (up)") for r in rows)
    assert n_down == n_up == cfg.num_levels - 1
    assert sum(r["contents"].count("attn") - r["contents"].count("a-attn") for r in rows) == sum(
        1 for m in model.modules() if type(m).__name__ == "VideoSelfAttention")


def test_plot_masks_labels_each_panel_and_marks_segments():
    import matplotlib.pyplot as plt

    from mmdiff_lite.viz.model import plot_masks

    tm = mm.model.token_mask(4, 2, 1, 3, 2)
    fig = plot_masks({"frame": mm.window_mask(4, 2, 1), "token": tm}, xlabel=["key segment", "key token"],
                     ylabel=["q segment", "q token"], blocks=[None, (3, 2)])
    a, b = fig.axes[:2]
    assert (a.get_xlabel(), b.get_xlabel(), a.get_ylabel(), b.get_ylabel()) == ("key segment", "key token", "q segment", "q token")
    assert len(a.lines) == 0 and len(b.lines) == (4 - 1) * 2  # 3 inner borders per axis
    plt.close(fig)


def test_circular_temporal_padding_is_cyclic_shift_equivariant():
    """With circular padding the 2D+1D conv commutes with rolling the frames; with zeros it does not
    (the last frame loses its neighbour: the boundary effect notebook 05 discusses)."""
    from mmdiff_lite.model.video import VideoConv

    torch.manual_seed(0)
    x = torch.randn(2, 4, 8, 5, 5)
    for mode, equivariant in (("circular", True), ("zeros", False)):
        conv = VideoConv(4, 6, temporal_padding=mode)
        rolled_first = conv(x.roll(3, dims=2))
        rolled_after = conv(x).roll(3, dims=2)
        assert torch.allclose(rolled_first, rolled_after, atol=1e-5) == equivariant, mode
    model = mm.build_model("tiny")  # the tiny preset pads circularly
    assert sum(isinstance(m, torch.nn.Conv3d) and m.padding_mode == "circular" for m in model.modules()) == 17
    with pytest.raises(ValueError, match="temporal_padding"):
        mm.build_model("tiny", temporal_padding="reflect")


def test_recomputed_attention_and_norms_give_the_stored_gradients():
    """Recomputing attention blocks (and the norms, always) in backward changes memory, not numbers:
    the same loss and gradients as storing them, with random RS-MMA shifts drawn once per call."""
    grads = []
    for recompute in (False, True):
        torch.manual_seed(0)  # the same initial weights
        model = mm.build_model("tiny", recompute_attention=recompute, prediction="eps")
        mm.model.perturb_zero_layers(model, generator=torch.Generator().manual_seed(1))
        g = torch.Generator().manual_seed(2)
        x = {"video": torch.randn(2, *model.config.video_shape, generator=g),
             "audio": torch.randn(2, *model.config.audio_shape, generator=g)}
        out = model(x, torch.tensor([10.0, 700.0]), shift_generator=torch.Generator().manual_seed(3))
        (out["video"].square().mean() + out["audio"].square().mean()).backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for n in grads[0]:
        torch.testing.assert_close(grads[1][n], grads[0][n], rtol=1e-4, atol=1e-6, msg=n)


def test_fast_dropout_keeps_1_minus_p_and_the_expectation():
    from mmdiff_lite.model.layers import FastDropout

    drop = FastDropout(0.1).train()
    torch.manual_seed(0)
    x = torch.full((1_000_000,), 2.0, requires_grad=True)
    y = drop(x)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.9) < 5 * (0.9 * 0.1 / 1e6) ** 0.5  # within 5 standard errors
    assert abs(y.mean().item() - 2.0) < 0.01  # E[out] = x
    values = torch.unique(y)
    assert len(values) == 2 and values[0] == 0 and abs(values[1].item() - 2.0 * 65536 / (65536 - 6554)) < 1e-6
    y.sum().backward()
    torch.testing.assert_close(x.grad, (y.detach() != 0).float() * 65536 / (65536 - 6554))
    assert torch.equal(drop.eval()(x), x)
    with pytest.raises(ValueError, match="dropout"):
        FastDropout(1.0)
