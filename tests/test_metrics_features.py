"""Feature networks: the shipped bench encoders, and the plumbing of the paper's networks with stand-in weights of
the same architecture (no weights are downloaded, and no code path reaches the network)."""
import math

import numpy as np
import pytest
import torch

from mmdiff_lite.data import clip_preset, synthetic_clip
from mmdiff_lite.metrics.feature_checks import check_feature_network, one_colour_pairs, real_pairs
from mmdiff_lite.metrics.features import feature_network, load_bench_features, shipped_feature_networks, sync_lags
from mmdiff_lite.metrics.features.i3d import InceptionI3d, i3d_preprocess
from mmdiff_lite.metrics.features.registry import is_torchscript
from mmdiff_lite.metrics.features.vggish import VGGish, vggish_examples
from mmdiff_lite.metrics.fidelity import extract_features
from mmdiff_lite.utils import sha256_file


def test_shipped_bench_networks_are_small_and_verified():
    shipped = shipped_feature_networks()
    assert "bench-tiny" in shipped
    from mmdiff_lite.metrics.features.store import FEATURES_DIR
    for record in shipped.values():
        path = FEATURES_DIR / record["file"]
        assert path.stat().st_size <= 2 * 2**20
        assert sha256_file(path) == record["sha256"]


def test_bench_features_shapes_and_batch_size_independence(no_network):
    net = feature_network("bench", "tiny")
    pairs = real_pairs("tiny", 7, seed=3)
    a = extract_features(net, pairs, batch_size=7)
    b = extract_features(net, pairs, batch_size=2)
    assert a["video"].shape == (7, 32) and a["audio"].shape == (7, 32) and a["joint"].shape == (7, 71)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=1e-4)  # float32 convolutions: batch order moves the last bits


def test_bench_networks_learned_the_ground_truth():
    acc = load_bench_features("tiny").meta["held_out_accuracy"]
    assert acc["impact"] > 0.97 and acc["onset"] > 0.97 and acc["pitch"] > 0.9 and acc["position_px"] < 1.0


def test_bench_features_refuse_other_shapes():
    net = feature_network("bench", "tiny")
    with pytest.raises(ValueError, match="preset 'tiny'"):
        net({"video": torch.zeros(1, 8, 3, 32, 32), "audio": torch.zeros(1, 1, 6400)})


def test_sync_lags_put_a_late_sound_at_its_lag():
    pv = torch.zeros(1, 16)
    pv[0, 5] = 1
    pa = torch.roll(pv, 2, dims=1)
    lags = sync_lags(pv, pa, lags=3)[0]
    assert lags.argmax().item() == 3 + 2 and lags.sum().item() == 1


def test_i3d_preprocess_resizes_and_keeps_the_range():
    v = torch.rand(2, 16, 3, 16, 16) * 2 - 1
    x = i3d_preprocess(v)
    assert x.shape == (2, 3, 16, 224, 224)
    assert x.min() >= -1 and x.max() <= 1
    const = i3d_preprocess(torch.full((1, 8, 1, 16, 16), 0.25))
    assert const.shape[1] == 3 and torch.allclose(const, torch.tensor(0.25))


def test_vggish_examples_resample_to_16k_and_cut_096s():
    cfg = clip_preset("tiny")
    t = torch.arange(cfg.audio_samples) / cfg.sample_rate
    tone = (0.5 * torch.sin(2 * math.pi * 512 * t)).view(1, 1, -1)
    ex, k = vggish_examples(tone, cfg.sample_rate)
    assert ex.shape == (1, 1, 96, 64) and k == 1
    t16 = torch.arange(16000) / 16000
    direct, _ = vggish_examples((0.5 * torch.sin(2 * math.pi * 512 * t16)).view(1, 1, -1), 16000)
    assert ex[0, 0, 10:80].mean(0).argmax() == direct[0, 0, 10:80].mean(0).argmax()  # the same mel band
    silent, _ = vggish_examples(torch.zeros(1, 1, 16000), 16000)
    assert torch.allclose(silent, torch.log(torch.tensor(0.01)))
    two, k2 = vggish_examples(torch.zeros(3, 1, 32000), 16000)
    assert k2 == 2 and two.shape == (6, 1, 96, 64)


@pytest.mark.slow
def test_i3d_state_dict_stand_in_runs_offline_and_is_batch_independent(tmp_path, no_network):
    torch.manual_seed(0)
    path = tmp_path / "rgb_imagenet.pt"
    torch.save(InceptionI3d().state_dict(), path)
    assert not is_torchscript(path)
    net = feature_network(f"i3d:{path}", "ref-small")
    pairs = real_pairs("ref-small", 2, seed=0)
    both = net(pairs)["video"]
    one = net({k: v[:1] for k, v in pairs.items()})["video"]
    assert both.shape == (2, 400)
    torch.testing.assert_close(one[0], both[0], rtol=1e-4, atol=1e-4)
    assert sha256_file(path)[:16] in net.describe()


def test_i3d_torchscript_is_called_as_stylegan_v_calls_it(tmp_path, no_network):
    class Detector(torch.nn.Module):
        def forward(self, x, rescale: bool, resize: bool, return_features: bool):
            assert not rescale and not resize and return_features
            return torch.stack([x.amin(dim=(1, 2, 3, 4)), x.amax(dim=(1, 2, 3, 4)), torch.tensor(x.shape[-1]).float().expand(x.shape[0])], 1)

    path = tmp_path / "i3d_torchscript.pt"
    torch.jit.script(Detector()).save(str(path))
    assert is_torchscript(path)
    out = feature_network(f"i3d:{path}", "tiny")(real_pairs("tiny", 3, seed=1))["video"]
    assert out.shape == (3, 3) and (out[:, 0] >= -1).all() and (out[:, 1] <= 1).all() and (out[:, 2] == 224).all()


@pytest.mark.slow
def test_vggish_stand_in_runs_offline(tmp_path, no_network):
    torch.manual_seed(0)
    path = tmp_path / "vggish.pth"
    torch.save(VGGish().state_dict(), path)
    out = feature_network(f"vggish:{path}", "tiny")(real_pairs("tiny", 3, seed=2))["audio"]
    assert out.shape == (3, 128) and torch.isfinite(out).all() and (out >= 0).all()


def test_feature_network_errors_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="i3d_torchscript.pt.*README"):
        feature_network(f"i3d:{tmp_path / 'missing.pt'}")
    with pytest.raises(ValueError, match="needs the weights file"):
        feature_network("vggish")
    with pytest.raises(ValueError, match="unknown feature network"):
        feature_network("inception")
    bad = tmp_path / "evil.pt"
    torch.save({"weights": object()}, bad)  # needs unpickling of arbitrary objects
    with pytest.raises(ValueError, match="pickle-free"):
        feature_network(f"vggish:{bad}")


def test_one_colour_pairs_are_one_colour():
    pairs = one_colour_pairs("tiny", 4, seed=0, colour=0)
    red = pairs["video"][:, :, 0].amax(dim=(1, 2, 3))
    others = pairs["video"][:, :, 1:].amax(dim=(1, 2, 3, 4))
    assert (red > 0.9).all() and (others < -0.9).all()


@pytest.mark.slow
def test_bench_distances_measure_what_matters():
    net = feature_network("bench", "tiny")
    checks = check_feature_network(net, n=256, seed=0, n_boot=20, progress=False)  # the size bench features uses
    floor = checks["floor"]
    for key in ("fvd", "fad", "fjd"):
        assert floor[key]["low"] <= floor[key]["value"] <= floor[key]["high"]
    for name, curve in checks["curves"].items():
        main = "fvd" if curve["modality"] == "video" else "fad"
        assert curve["monotone"][main], (name, [d[main]["value"] for d in curve["distances"]])
        assert curve["distances"][-1][main]["low"] > floor[main]["high"], name
    # A sound late by even one frame is a sync error: the joint distance jumps at once (FAD sees only the clip's edges).
    offset = checks["curves"]["audio_offset"]["distances"]
    assert all(d["fjd"]["low"] > 10 * floor["fjd"]["value"] for d in offset[1:])
    assert offset[1]["fjd"]["value"] > 5 * offset[1]["fad"]["value"]
    for how in ("one_clip", "one_colour"):
        assert checks["collapse"][how]["fvd"]["value"] > 5 * floor["fvd"]["value"], how


def test_a_file_named_by_its_hash_must_match_it(tmp_path):
    from mmdiff_lite.metrics.features.registry import check_hub_hash

    good = tmp_path / "w.pth"
    good.write_bytes(b"weights")
    digest = sha256_file(good)
    named = tmp_path / f"vggish-{digest[:8]}.pth"
    good.rename(named)
    check_hub_hash(named, digest)  # matches: no error
    wrong = tmp_path / "vggish-10086976.pth"
    named.rename(wrong)
    with pytest.raises(ValueError, match="damaged or not the published file"):
        check_hub_hash(wrong, digest)
