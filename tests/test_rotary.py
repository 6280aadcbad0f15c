"""Time-aligned rotary position in RS-MMA: exact equivariance to a common time shift, identity at zero rotation."""
import pytest
import torch

from mmdiff_lite.model import build_model, model_config
from mmdiff_lite.model.rotary import rotate, token_times
from mmdiff_lite.model.rsmma import RSMMA


def test_token_times_align_video_frames_and_audio_segments():
    v = token_times(4 * 6, 4, spread=False)  # 4 frames of 6 pixels
    a = token_times(4 * 8, 4, spread=True)   # 4 segments of 8 audio tokens
    assert torch.equal(v.view(4, 6), (torch.arange(4) + 0.5)[:, None].expand(4, 6))
    assert torch.allclose(a.view(4, 8).mean(1), torch.arange(4) + 0.5)  # a segment is centred on its frame
    assert torch.all(a.diff() > 0)
    with pytest.raises(ValueError, match="equal segments"):
        token_times(10, 4, spread=True)


def test_rotation_keeps_norms_and_scores_depend_only_on_the_time_offset():
    torch.manual_seed(0)
    q, k = torch.randn(2, 3, 5, 16), torch.randn(2, 3, 7, 16)
    tq, tk = torch.rand(5) * 16, torch.rand(7) * 16
    scores = rotate(q, tq) @ rotate(k, tk).transpose(-1, -2)
    for c in (1.0, 3.5, -7.25):  # every time shifted by c: the scores do not change
        shifted = rotate(q, tq + c) @ rotate(k, tk + c).transpose(-1, -2)
        torch.testing.assert_close(shifted, scores, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(rotate(q, tq).norm(dim=-1), q.norm(dim=-1))
    torch.testing.assert_close(rotate(q, torch.zeros(5)), q)  # zero rotation: unchanged
    # and the score does depend on the offset (the test can fail): one key moved by a frame changes its scores
    moved = rotate(q, tq) @ rotate(k, tk + torch.eye(7)[0]).transpose(-1, -2)
    assert (moved[..., 0] - scores[..., 0]).abs().max() > 1e-2


def _block(rotary):
    torch.manual_seed(1)
    blk = RSMMA(32, 4, 2, shift=1, impl="dense", head_dim=16, groups=8, rotary=rotary)
    for out in (blk.out_v, blk.out_a):  # non-zero outputs, so the attention shows
        torch.nn.init.normal_(out.weight, std=0.2)
    return blk


def test_rsmma_with_rotation_differs_and_without_equals_plain_rsmma(monkeypatch):
    video, audio = torch.randn(2, 32, 4, 2, 2), torch.randn(2, 32, 16)
    plain, rot = _block(False), _block(True)
    rot.load_state_dict(plain.state_dict())
    ov, oa = plain(video, audio)
    rv, ra = rot(video, audio)
    assert not torch.allclose(rv, ov)
    import mmdiff_lite.model.rsmma as rs
    monkeypatch.setattr(rs, "rotate", lambda x, times: rotate(x, torch.zeros_like(times)))
    zv, za = rot(video, audio)  # zero rotation is plain RS-MMA
    torch.testing.assert_close(zv, ov)
    torch.testing.assert_close(za, oa)


def test_rotary_model_builds_and_runs_both_implementations():
    for impl in ("dense", "windowed"):
        cfg = model_config("tiny", cross_rotary=True, shift="random", rsmma_impl=impl)
        torch.manual_seed(0)
        model = build_model(cfg)
        x = {"video": torch.randn(1, *cfg.video_shape), "audio": torch.randn(1, *cfg.audio_shape)}
        out = model(x, torch.tensor([10.0]), shift_generator=torch.Generator().manual_seed(0))
        assert out["video"].shape == x["video"].shape and torch.isfinite(out["audio"]).all()
    assert model_config("tiny", cross_rotary="False").cross_rotary is False
