"""The super-resolution stage (issue 17, part 1): the authors' parameter count, per-frame independence, the
conditioning path, the trainer fitting a single-modality model, shared initial noise, and the upscaling scores'
closed forms."""
import json
import math

import numpy as np
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.metrics.upscaling import flicker_excess, input_fidelity, psnr, ssim, temporal_flicker
from mmdiff_lite.model import SRConfig, build_model, downsample_frames, model_config, perturb_zero_layers
from mmdiff_lite.pipeline import load_model, upscale
from mmdiff_lite.train import train as run_training


def _small(**kw):
    return build_model("sr-tiny", num_frames=4, **kw)


def test_sr_paper_matches_the_authors_parameter_count():
    n = sum(p.numel() for p in build_model("sr-paper").parameters())
    learned_variance = 192 * 3 * 9 + 3  # the authors' extra 3 output channels (learn_sigma), which the kit leaves out
    assert n + learned_variance == 311_027_910
    assert abs(n - 311_027_910) / 311_027_910 < 0.005


def test_frames_are_upscaled_independently_and_in_order():
    torch.manual_seed(0)
    m = perturb_zero_layers(_small(), generator=torch.Generator().manual_seed(1)).eval()
    x, low = torch.randn(2, 4, 3, 32, 32), torch.rand(2, 4, 3, 16, 16) * 2 - 1
    t = torch.tensor([10.0, 700.0])
    with torch.no_grad():
        out = m({"video": x}, t, low=low)["video"]
        x2, low2 = x.clone(), low.clone()
        x2[:, 0] += 1.0
        low2[:, 0] = -low2[:, 0]
        moved = m({"video": x2}, t, low=low2)["video"]
        perm = torch.tensor([2, 0, 3, 1])
        permuted = m({"video": x[:, perm]}, t, low=low[:, perm])["video"]
    assert (moved[:, 0] - out[:, 0]).abs().max() > 1e-3  # the changed frame changes
    torch.testing.assert_close(moved[:, 1:], out[:, 1:], rtol=0, atol=1e-6)  # the others do not
    torch.testing.assert_close(permuted, out[:, perm], rtol=0, atol=1e-5)


def test_the_low_resolution_frames_reach_the_output():
    m = _small().eval()
    x, low = torch.randn(1, 4, 3, 32, 32), torch.rand(1, 4, 3, 16, 16)
    with torch.no_grad():
        assert m({"video": x}, torch.tensor([5.0]), low=low)["video"].abs().max() == 0  # zero-initialised output
        perturb_zero_layers(m, generator=torch.Generator().manual_seed(0))
        a = m({"video": x}, torch.tensor([5.0]), low=low)["video"]
        b = m({"video": x}, torch.tensor([5.0]), low=-low)["video"]
    assert (a - b).abs().mean() > 1e-4
    with pytest.raises(ValueError, match="low"):
        m({"video": x}, torch.tensor([5.0]), low=torch.zeros(1, 4, 3, 8, 8))


def test_sr_config_is_checked_and_typed():
    with pytest.raises(ValueError, match="multiple"):
        SRConfig(frame_shape=(3, 32, 32), low_size=(12, 12))
    assert model_config("sr-tiny", dropout="0.1").dropout == 0.1
    with pytest.raises(ValueError, match="unknown model option"):
        model_config("sr-tiny", windows=(1, 2))


def test_tiny_x2_is_tiny_at_twice_the_size():
    lo = mm.SyntheticClips("tiny", seed=5).batch(range(6))
    hi = mm.SyntheticClips("tiny-x2", seed=5).batch(range(6))
    assert torch.equal(lo["audio"], hi["audio"])
    assert (downsample_frames(hi["video"], (16, 16)) - lo["video"]).abs().mean() < 0.005
    assert mm.sync_scores(hi["video"], hi["audio"], "tiny-x2")["f1"] == 1.0


def test_downsample_is_the_block_mean():
    x = torch.arange(16.0).reshape(1, 1, 1, 4, 4)
    torch.testing.assert_close(downsample_frames(x, (2, 2))[0, 0, 0], torch.tensor([[2.5, 4.5], [10.5, 12.5]]))


def test_the_trainer_trains_and_resumes_the_upsampler(tmp_path):
    from dataclasses import replace

    cfg = mm.train_config("sr-tiny", steps=2, batch_size=2, log_every=1, ckpt_every=1,
                          model_overrides={"channels": 8, "channel_mult": (1, 2), "attention_levels": (1,)})
    run_training(cfg, tmp_path / "a", progress=False)
    run_training(replace(cfg, steps=3), tmp_path / "a", resume=True, progress=False)
    run_training(replace(cfg, steps=3), tmp_path / "b", progress=False)
    resumed, meta = load_model(tmp_path / "a")
    straight, _ = load_model(tmp_path / "b")
    assert resumed.config.kind == "sr" and meta["step"] == 3 and meta["model_config"]["kind"] == "sr"
    for (k, p), q in zip(resumed.state_dict().items(), straight.state_dict().values()):
        assert torch.equal(p, q), k  # a resumed run is the uninterrupted one, bit for bit
    log = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines() if line.strip()]
    assert "loss_video" in log[-1] and "loss_audio" not in log[-1]  # one modality, logged as such


def test_shared_noise_gives_identical_frames_for_identical_inputs():
    m = perturb_zero_layers(_small(), generator=torch.Generator().manual_seed(2))
    frame = torch.rand(1, 1, 3, 16, 16) * 2 - 1
    low = frame.expand(1, 4, 3, 16, 16).contiguous()
    shared = upscale(m, low, steps=3, seed=0, shared_noise=True)
    own = upscale(m, low, steps=3, seed=0, shared_noise=False)
    assert shared.shape == (1, 4, 3, 32, 32)
    torch.testing.assert_close(shared[:, 1:], shared[:, :1].expand_as(shared[:, 1:]), rtol=0, atol=1e-5)
    assert temporal_flicker(shared)[0] < 1e-5 < temporal_flicker(own)[0]
    torch.testing.assert_close(upscale(m, low, steps=3, seed=0), shared)  # seeded
    with pytest.raises(ValueError, match="do not fit"):
        upscale(m, torch.zeros(1, 4, 3, 8, 8))


def test_flicker_psnr_ssim_closed_forms():
    torch.manual_seed(0)
    still = torch.rand(2, 5, 3, 8, 8).expand(2, 5, 3, 8, 8)[:, :1].expand(2, 5, 3, 8, 8)
    assert torch.all(temporal_flicker(still) == 0)
    alt = torch.zeros(1, 4, 3, 8, 8)
    alt[:, 1::2] = 0.5
    assert temporal_flicker(alt)[0] == pytest.approx(0.5)
    low = torch.rand(1, 4, 3, 8, 8)
    assert flicker_excess(torch.nn.functional.interpolate(low[0], size=(16, 16), mode="bicubic",
                                                          align_corners=False).clamp(-1, 1)[None], low)[0].abs() < 1e-6
    a = torch.rand(3, 2, 3, 16, 16) * 2 - 1
    assert psnr(a, a + 0.1)[0] == pytest.approx(10 * math.log10(4 / 0.01), rel=1e-5)
    torch.testing.assert_close(ssim(a, a), torch.ones(3))
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    big = torch.rand(3, 2, 3, 64, 64) * 2 - 1
    b = (big + 0.2 * torch.randn_like(big)).clamp(-1, 1)
    ref = torch.stack([tm_ssim((b[i] + 1) / 2, (big[i] + 1) / 2, data_range=1.0) for i in range(3)])
    assert (ssim(big, b) - ref).abs().max() < 2e-3  # they differ at the border only (3e-3 at 16x16, 1e-3 at 64x64)
    up = torch.nn.functional.interpolate(a[0], scale_factor=2, mode="nearest")[None]
    fid = input_fidelity(up, a[:1])
    assert fid["psnr"][0] > 100 and fid["ssim"][0] == pytest.approx(1.0, abs=1e-6)


def test_upscale_command_writes_pairs_with_their_sound(tmp_path, monkeypatch):
    from mmdiff_lite.cli import main

    cfg = mm.train_config("sr-tiny", steps=1, batch_size=1, log_every=1, ckpt_every=1,
                          model_overrides={"channels": 8, "channel_mult": (1, 2), "attention_levels": (1,)})
    run_training(cfg, tmp_path / "sr", progress=False)
    clips = mm.SyntheticClips("tiny", seed=1).batch(range(2))
    np.savez(tmp_path / "pairs.npz", video=clips["video"].numpy(), audio=clips["audio"].numpy())
    assert main(["upscale", "--checkpoint", str(tmp_path / "sr"), "--input", str(tmp_path / "pairs.npz"),
                 "--out", str(tmp_path / "out"), "--steps", "2", "--no-progress"]) == 0
    z = np.load(tmp_path / "out" / "pairs.npz")
    assert z["video"].shape == (2, 16, 3, 32, 32) and np.array_equal(z["audio"], clips["audio"].numpy())
    assert sorted(p.name for p in (tmp_path / "out").glob("*.mp4")) == ["pair_00.mp4", "pair_01.mp4"]
    assert main(["upscale", "--checkpoint", "tiny", "--input", str(tmp_path / "pairs.npz"),
                 "--out", str(tmp_path / "out2"), "--no-progress"]) == 2


def test_upscale_reads_a_folder_of_mp4s(tmp_path):
    """mmdiff-lite sample's mp4s (frames scaled up by nearest) are read back at the upsampler's input size."""
    from mmdiff_lite.data import write_mp4
    from mmdiff_lite.pipeline import read_low_pairs

    clips = mm.SyntheticClips("tiny", seed=2).batch(range(2))
    for i in range(2):
        write_mp4(tmp_path / f"pair_{i:02d}.mp4", clips["video"][i], clips["audio"][i], 16.0, 4096, scale=8)
    low = read_low_pairs(tmp_path, build_model("sr-tiny"))
    assert low["video"].shape == (2, 16, 3, 16, 16) and low["audio"].shape == (2, 1, 4096)
    assert (low["video"] - clips["video"]).abs().mean() < 0.05  # H.264 at 128 px, averaged back to 16 px
    with pytest.raises(FileNotFoundError, match="pairs.npz"):
        read_low_pairs(tmp_path / "nothing", build_model("sr-tiny"))
