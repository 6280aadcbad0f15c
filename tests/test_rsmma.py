"""RS-MMA: the window mask, dense == windowed, identity at init, the shift and its generator."""
import itertools

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from test_model import _one_thread  # noqa: F401  (autouse: one torch thread for these small tensors)

from mmdiff_lite.model.rsmma import offset_readout, ring_windows, with_frame_onehot
from mmdiff_lite.model import (RSMMA, build_model, draw_shift, perturb_zero_layers, rsmma_cost, rsmma_modules,
                               segment_attention, shift_generator, token_mask, window_indices, window_mask)


def _cases():
    for f in (1, 2, 3, 5, 8, 16):
        for s in sorted({1, 2, max(1, f // 2), f}):
            if s <= f:
                for r in sorted({0, (f - s) // 2, f - s}):
                    yield f, s, r


@pytest.mark.parametrize("f,s,r", list(_cases()))
def test_window_mask_definition_and_counts(f, s, r):
    m = window_mask(f, s, r)
    expected = torch.tensor([[((k - q - r) % f) < s for k in range(f)] for q in range(f)])
    assert m.dtype == torch.bool and torch.equal(m, expected)
    assert (m.sum(1) == s).all() and (m.sum(0) == s).all()  # every row and every column: S keys
    idx = window_indices(f, s, r)
    assert idx.shape == (f, s)
    rebuilt = torch.zeros(f, f, dtype=torch.bool)
    rebuilt[torch.arange(f)[:, None], idx] = True
    assert torch.equal(rebuilt, m)  # the gathered segments are exactly the mask's true entries
    assert torch.equal(idx[:, 0], (torch.arange(f) + r) % f)  # frame i starts at segment i + R


def test_token_mask_expands_frames():
    m = token_mask(4, 2, 1, 3, 5)
    assert m.shape == (12, 20)
    assert torch.equal(m[::3, ::5], window_mask(4, 2, 1))
    assert (m.sum(1) == 2 * 5).all()


@pytest.mark.parametrize("f,s,r", [(16, 17, 0), (16, 0, 0), (8, 4, 5), (8, 4, -1)])
def test_bad_window_or_shift_raises(f, s, r):
    with pytest.raises(ValueError, match="use"):
        window_mask(f, s, r)


def test_window_larger_than_frames_rejected_by_model_config():
    with pytest.raises(ValueError, match="window"):
        build_model("tiny", windows=(None, 1, 32))


def _reference_attention(q, k, v, f, s, r):
    """Per query segment: explicit softmax over the concatenated S key segments (a third implementation)."""
    b, h, nq, d = q.shape
    lq, lk = nq // f, k.shape[2] // f
    out = torch.empty_like(q)
    for i in range(f):
        segs = [(i + r + j) % f for j in range(s)]
        kk = torch.cat([k[:, :, g * lk:(g + 1) * lk] for g in segs], 2)
        vv = torch.cat([v[:, :, g * lk:(g + 1) * lk] for g in segs], 2)
        w = (q[:, :, i * lq:(i + 1) * lq] @ kk.transpose(-1, -2) / d**0.5).softmax(-1)
        out[:, :, i * lq:(i + 1) * lq] = w @ vv
    return out


@pytest.mark.parametrize("f,s,r,lq,lk", [
    (16, 1, 0, 4, 3), (16, 1, 15, 2, 5), (16, 4, 7, 3, 2), (16, 8, 8, 1, 4), (16, 16, 0, 2, 2),
    (8, 3, 2, 5, 1), (5, 2, 3, 2, 7), (3, 1, 1, 4, 4), (1, 1, 0, 3, 2), (12, 5, 6, 1, 1),
])
def test_dense_equals_windowed_equals_reference(f, s, r, lq, lk):
    g = torch.Generator().manual_seed(f * 100 + s * 10 + r)
    q = torch.randn(2, 3, f * lq, 8, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 3, f * lk, 8, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 3, f * lk, 8, generator=g, dtype=torch.float64, requires_grad=True)
    dense = segment_attention(q, k, v, f, s, r, "dense")
    windowed = segment_attention(q, k, v, f, s, r, "windowed")
    torch.testing.assert_close(dense, windowed, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(dense, _reference_attention(q, k, v, f, s, r), rtol=1e-10, atol=1e-12)
    gd = torch.autograd.grad(dense.square().sum(), (q, k, v))
    gw = torch.autograd.grad(windowed.square().sum(), (q, k, v))
    for a, b in zip(gd, gw):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)
    with torch.no_grad():  # sampling takes the other windowed path (overlapping views of the keys)
        torch.testing.assert_close(segment_attention(q, k, v, f, s, r, "windowed"), dense.detach(), rtol=1e-10, atol=1e-12)
    kw = ring_windows(k.detach(), f, s, r)  # row i holds key segments (i + r + j) mod f, j < s, end to end
    for i in range(f):
        want = torch.cat([k.detach()[:, :, ((i + r + j) % f) * lk:((i + r + j) % f + 1) * lk] for j in range(s)], 2)
        assert torch.equal(kw[:, i].reshape(want.shape), want)


@pytest.mark.parametrize("s", [1, 4, 8])
def test_windowed_work_scales_with_window(s):
    """Measured FLOPs: windowed = closed form (S segments), dense = F / S times more."""
    f, lq, lk, d = 16, 16, 25, 64
    q, k, v = torch.randn(1, 1, f * lq, d), torch.randn(1, 1, f * lk, d), torch.randn(1, 1, f * lk, d)
    flops = {}
    for impl in ("dense", "windowed"):
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:  # math kernel: counted matmuls
            segment_attention(q, k, v, f, s, 3, impl)
        flops[impl] = fc.get_total_flops()
    assert flops["windowed"] == 4 * (f * lq) * (s * lk) * d  # QK^T and PV: 2 x 2 FLOPs per entry and channel
    assert flops["dense"] == 4 * (f * lq) * (f * lk) * d
    cost = rsmma_cost(f, s, lq, lk, d)  # the closed form used by the notebooks and the benchmark
    assert flops["dense"] / flops["windowed"] == f / s == cost.saving


def _block_inputs(f=8, c=64, hw=(3, 2), t_per=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, c, f, *hw, generator=g), torch.randn(2, c, f * t_per, generator=g)


@pytest.mark.parametrize("offsets", [False, True])
def test_fresh_rsmma_is_identity_and_perturbed_impls_agree(offsets):
    video, audio = _block_inputs()
    block = RSMMA(64, 8, 3, shift="random", impl="dense", offsets=offsets)
    v2, a2 = block(video, audio)
    assert torch.equal(v2, video) and torch.equal(a2, audio)  # zero-initialised output projections
    perturb_zero_layers(block, generator=torch.Generator().manual_seed(1))
    other = RSMMA(64, 8, 3, shift="random", impl="windowed", offsets=offsets)
    other.load_state_dict(block.state_dict())
    for r in range(0, 6):
        block.shift = other.shift = r
        vd, ad = block(video, audio)
        vw, aw = other(video, audio)
        assert not torch.allclose(vd, video)
        torch.testing.assert_close(vd, vw, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(ad, aw, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("f,s,r", [(16, 1, 0), (16, 1, 9), (16, 4, 5), (8, 3, 5), (16, 16, 0)])
def test_offset_readout_closed_forms(f, s, r):
    """Zero queries attend uniformly: mass 1/S on offsets R ... R+S-1, 0 elsewhere, in both implementations.
    One loud key segment g draws all of the weight: every query segment i that sees g reports offset (g - i) mod F."""
    lq, lk, d = 2, 3, 4
    g = torch.Generator().manual_seed(f + s + r)
    v = with_frame_onehot(torch.randn(1, 2, f * lk, d, generator=g, dtype=torch.float64), f)
    assert v.shape[-1] == d + f and torch.equal(v[0, 0, lk, d:], torch.eye(f, dtype=torch.float64)[1])
    q, k = torch.zeros(1, 2, f * lq, d, dtype=torch.float64), torch.randn(1, 2, f * lk, d, generator=g, dtype=torch.float64)
    want = torch.zeros(f, dtype=torch.float64)
    want[r:r + s] = 1 / s
    for impl in ("dense", "windowed"):
        content, mass = offset_readout(segment_attention(q, k, v, f, s, r, impl), f)
        assert content.shape == (1, 2, f * lq, d)
        torch.testing.assert_close(mass, want.expand_as(mass))
    loud = f // 2
    q = torch.ones(1, 2, f * lq, d, dtype=torch.float64)
    k = torch.zeros(1, 2, f * lk, d, dtype=torch.float64)
    k[:, :, loud * lk:(loud + 1) * lk] = 50.0  # logits 100 for segment `loud`, 0 elsewhere
    _, mass = offset_readout(segment_attention(q, k, v, f, s, r, "windowed"), f)
    for i in range(f):
        o = (loud - i) % f
        if (o - r) % f < s:  # the loud segment is in query segment i's window
            assert mass[0, :, i * lq:(i + 1) * lq, o].min() > 1 - 1e-9


def test_shift_modes_and_range():
    g = torch.Generator().manual_seed(0)
    draws = torch.tensor([draw_shift(16, 4, "random", g) for _ in range(2600)])
    assert draws.min() == 0 and draws.max() == 12  # R in [0, F - S], inclusive
    counts = torch.bincount(draws, minlength=13).double()
    assert ((counts - 200).abs() < 80).all()  # uniform: 200 expected per value
    assert draw_shift(16, 4, "none") == 0 and draw_shift(16, 4, 5) == 5
    assert draw_shift(16, 16, "random", g) == 0
    with pytest.raises(ValueError):
        draw_shift(16, 4, 13)


def _tiny(**kw):
    model = build_model("tiny", **kw)
    return perturb_zero_layers(model, generator=torch.Generator().manual_seed(3))


def _pair(model, batch=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    cfg = model.config
    return {"video": torch.randn(batch, *cfg.video_shape, generator=g),
            "audio": torch.randn(batch, *cfg.audio_shape, generator=g)}


@pytest.mark.parametrize("offsets", [False, True])
def test_model_dense_equals_windowed_with_same_shifts(offsets):
    dense = _tiny(rsmma_impl="dense", shift="random", cross_offsets=offsets)
    windowed = build_model("tiny", rsmma_impl="windowed", shift="random", cross_offsets=offsets)
    assert [(n, p.shape) for n, p in dense.named_parameters()] == [(n, p.shape) for n, p in windowed.named_parameters()]
    windowed.load_state_dict(dense.state_dict())
    x, t = _pair(dense), torch.tensor([321.5])
    out_d = dense(x, t, shift_generator=torch.Generator().manual_seed(7))
    out_w = windowed(x, t, shift_generator=torch.Generator().manual_seed(7))
    shifts = [m.last_shift for _, m in rsmma_modules(dense)]
    assert shifts == [m.last_shift for _, m in rsmma_modules(windowed)] and any(shifts)
    for key in ("video", "audio"):
        torch.testing.assert_close(out_d[key], out_w[key], rtol=1e-4, atol=1e-5)


def test_shift_generator_makes_runs_identical():
    model = _tiny(shift="random")
    x, t = _pair(model), torch.tensor([10.0])

    def run(seed):
        with shift_generator(model, torch.Generator().manual_seed(seed)):
            out = model(x, t)
        return out, [m.last_shift for _, m in rsmma_modules(model)]

    (o1, s1), (o2, s2), (_, s3) = run(5), run(5), run(6)
    assert s1 == s2 and torch.equal(o1["video"], o2["video"]) and torch.equal(o1["audio"], o2["audio"])
    assert s1 != s3  # another seed, other shifts
    assert model.shift_generator is None  # the context manager restores the global RNG
    torch.manual_seed(0)
    a = model(x, t)["audio"]
    torch.manual_seed(0)
    assert torch.equal(a, model(x, t)["audio"])  # default: the global RNG


def _audio_grad_wrt_video(model):
    x = _pair(model)
    x["video"].requires_grad_(True)
    out = model(x, torch.tensor([100.0]), shift_generator=torch.Generator().manual_seed(0))
    (grad,) = torch.autograd.grad(out["audio"].square().sum(), x["video"], allow_unused=True)
    return torch.zeros_like(x["video"]) if grad is None else grad


def test_video_reaches_audio_only_through_rsmma():
    assert _audio_grad_wrt_video(_tiny(cross_attention=False)).abs().max() == 0  # two separate U-Nets
    coupled = _tiny()
    assert _audio_grad_wrt_video(coupled).abs().max() > 0
    with torch.no_grad():  # silence every RS-MMA output: the coupling disappears exactly
        for _, m in rsmma_modules(coupled):
            for p in (*m.out_v.parameters(), *m.out_a.parameters()):
                p.zero_()
    assert _audio_grad_wrt_video(coupled).abs().max() == 0


def test_fresh_model_rsmma_blocks_are_identity():
    model = build_model("tiny")
    seen = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: seen.append(
        torch.equal(inp[0], out[0]) and torch.equal(inp[1], out[1]))) for _, m in rsmma_modules(model)]
    model(_pair(model), torch.tensor([5.0]))
    for h in hooks:
        h.remove()
    assert len(seen) == len(rsmma_modules(model)) > 0 and all(seen)


@pytest.mark.parametrize("impl,shift", list(itertools.product(["dense", "windowed"], ["none", 2])))
def test_fixed_shift_modes_in_model(impl, shift):
    model = build_model("tiny", rsmma_impl=impl, shift=shift)
    model(_pair(model), torch.tensor([1.0]))
    windowed = [m for _, m in rsmma_modules(model) if m.window < m.num_frames]
    assert windowed and all(m.last_shift == (0 if shift == "none" else shift) for m in windowed)


@pytest.mark.parametrize("seed", range(4))
def test_swap_probe_reaches_exactly_the_windows_holding_one_swapped_segment(seed):
    """Exchanging two key segments changes a query segment iff its window holds exactly one of them,
    in both directions, for every clip of the batch (one R per call); a change of the GroupNorm
    statistics instead (scaling one segment) reaches every query segment."""
    from mmdiff_lite.model.inspect import rsmma_swap_probe

    g = torch.Generator().manual_seed(seed)
    f, s = 8, 3
    block = perturb_zero_layers(RSMMA(64, f, s, shift="random"), scale=0.5, generator=g).double()
    video = torch.randn(3, 64, f, 2, 2, generator=g, dtype=torch.float64)
    audio = torch.randn(3, 64, f * 4, generator=g, dtype=torch.float64)
    a, b = (seed % f), (seed % f + 4) % f
    probe = rsmma_swap_probe(block, video, audio, (a, b), seed=seed)
    m = window_mask(f, s, probe["shift"])
    expected = (m[:, a] ^ m[:, b]).expand(3, f)
    assert torch.equal(probe["video->audio"], expected) and torch.equal(probe["audio->video"], expected)
    assert 0 < int(expected[0].sum()) < f
    with torch.no_grad():
        gen = lambda: torch.Generator().manual_seed(seed)  # noqa: E731
        v0, _ = block(video, audio, gen())
        scaled = audio.clone()
        scaled[..., a * 4:(a + 1) * 4] *= 3  # changes the GroupNorm statistics of the whole clip
        v1, _ = block(video, scaled, gen())
    assert ((v1 - v0).abs().amax(dim=(1, 3, 4)) > 1e-9).all()


def test_window_entropy_is_one_for_uniform_attention_and_matches_the_frame_maps():
    from mmdiff_lite.model.inspect import _window_shares, rsmma_frame_attention, rsmma_window_entropy

    g = torch.Generator().manual_seed(0)
    block = perturb_zero_layers(RSMMA(32, 8, 4, shift=0), scale=0.5, generator=g).double()
    video = torch.randn(2, 32, 8, 2, 2, generator=g, dtype=torch.float64)
    audio = torch.randn(2, 32, 8 * 3, generator=g, dtype=torch.float64)
    for r in (0, 3):
        shares = _window_shares(block, video, audio, r)
        frame = rsmma_frame_attention(block, video, audio, shift=r)
        for key, p in shares.items():
            assert torch.allclose(p.sum(-1), torch.ones_like(p[..., 0]))
            lq = p.shape[2] // 8
            mean = p.unflatten(2, (8, lq)).mean((0, 1, 3))  # (F, S): averaged as the frame maps are
            window = (torch.arange(8)[:, None] + r + torch.arange(4)) % 8
            assert torch.allclose(mean, frame[key].gather(1, window))  # two computations, one answer
        h = rsmma_window_entropy(block, video, audio, r)
        assert all(0 < v < 1 for v in h.values())
    with torch.no_grad():  # no queries: every key scores the same, the mass spreads evenly, the entropy is log S
        block.qkv_v.weight[:32].zero_(), block.qkv_v.bias[:32].zero_(), block.qkv_a.weight[:32].zero_(), block.qkv_a.bias[:32].zero_()
    assert all(abs(v - 1) < 1e-9 for v in rsmma_window_entropy(block, video, audio, 2).values())
    with torch.no_grad():  # queries and keys so large that each query picks one segment: entropy near 0
        block.qkv_v.weight.mul_(0).add_(torch.randn(block.qkv_v.weight.shape, generator=g, dtype=torch.float64) * 50)
        block.qkv_a.weight.mul_(0).add_(torch.randn(block.qkv_a.weight.shape, generator=g, dtype=torch.float64) * 50)
    assert all(v < 0.2 for v in rsmma_window_entropy(block, video, audio, 2).values())
