"""AudioCLIP's audio head (ESResNeXt-fbsp) with seeded stand-in weights of the checkpoint's architecture: its tensors,
its front end against closed forms, the authors' input, and loading a stand-in full checkpoint offline."""
import math

import pytest
import torch
from torch import nn

from mmdiff_lite.data import clip_preset
from mmdiff_lite.metrics.feature_checks import real_pairs
from mmdiff_lite.metrics.features import feature_network
from mmdiff_lite.metrics.features.audioclip import (AUDIOCLIP_PARAMETERS, AUDIOCLIP_RATE, AUDIOCLIP_SAMPLES,
                                                    AUDIOCLIP_TENSORS, FBSP, ESResNeXtFBSP, audioclip_examples,
                                                    batch_statistics, blackman_harris, frame_signal)
from mmdiff_lite.utils import sha256_file


def stand_in() -> ESResNeXtFBSP:
    """Seeded weights of the checkpoint's architecture, with BatchNorm statistics and fbsp parameters moved off
    their initial values (so that eval mode, batch statistics and the fbsp window all matter)."""
    torch.manual_seed(0)
    net = ESResNeXtFBSP()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
        net.fbsp.m.uniform_(0.5, 1.5)
        net.fbsp.fb.uniform_(0.8, 1.2)
        net.fbsp.fc.add_(torch.randn(1025) * 0.1)
    return net.eval()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A stand-in AudioCLIP-Full-Training.pt: the audio head under ``audio.``, beside some of CLIP's tensors."""
    net = stand_in()
    state = {f"audio.{k}": v for k, v in net.state_dict().items()}
    state.update({"visual.conv1.weight": torch.randn(32, 3, 3, 3), "logit_scale_ai": torch.tensor(4.6)})
    path = tmp_path_factory.mktemp("audioclip") / "AudioCLIP-Full-Training.pt"
    torch.save(state, path)
    return path, net


def tone(freq: float, rate: int, samples: int, amplitude: float = 0.5) -> torch.Tensor:
    return (amplitude * torch.sin(2 * math.pi * freq * torch.arange(samples) / rate)).view(1, 1, -1)


def test_the_head_has_the_checkpoints_tensors():
    net = ESResNeXtFBSP()
    state = net.state_dict()
    assert len(state) == AUDIOCLIP_TENSORS == 370
    assert sum(p.numel() for p in net.parameters()) == AUDIOCLIP_PARAMETERS == 32_104_771
    assert sum(k.endswith("num_batches_tracked") for k in state) == 53 + 5  # ResNeXt-50's BNs and the attention's
    blocks = {s: len({k.split(".")[1] for k in state if k.startswith(f"layer{s}.")}) for s in range(1, 5)}
    assert blocks == {1: 3, 2: 4, 3: 6, 4: 3}
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["conv1.weight"] == (64, 3, 7, 7) and shapes["fc.weight"] == (1024, 2048)
    assert shapes["layer2.0.conv2.weight"] == (256, 8, 3, 3)  # ResNeXt 32x4d: 32 groups of 8 channels
    assert shapes["layer4.0.downsample.0.weight"] == (2048, 1024, 1, 1)
    kernels = {i: shapes[f"att{i}.conv_depth.weight"] for i in range(1, 6)}
    assert kernels == {1: (64, 1, 3, 1), 2: (256, 1, 1, 5), 3: (512, 1, 3, 1), 4: (1024, 1, 1, 5), 5: (2048, 1, 3, 5)}
    assert [shapes[f"att{i}.conv_point.weight"][:2] for i in range(1, 6)] == [(256, 64), (512, 256), (1024, 512),
                                                                           (2048, 1024), (2048, 2048)]
    assert {k: shapes[k] for k in ("fbsp.m", "fbsp.fb", "fbsp.fc", "fbsp.bias", "window")} == {
        "fbsp.m": (1025,), "fbsp.fb": (1025,), "fbsp.fc": (1025,), "fbsp.bias": (0,), "window": (1654,)}


def test_window_is_the_periodic_blackman_harris():
    signal = pytest.importorskip("scipy.signal")
    w = blackman_harris(1654)
    torch.testing.assert_close(w, torch.from_numpy(signal.get_window("blackmanharris", 1654, fftbins=True)).float())
    assert torch.allclose(w[1:], w[1:].flip(0)) and w.argmax() == 827  # periodic: symmetric about n = N/2


def test_fbsp_at_its_initial_values_is_a_dft_of_period_n_minus_1():
    torch.manual_seed(1)
    n = 2048
    x = torch.randn(3, n)
    spec = FBSP()(x)
    folded = torch.cat([x[:, :1] + x[:, -1:], x[:, 1:-1]], dim=1)  # period N - 1: sample N - 1 joins sample 0
    ref = torch.fft.fft(folded.double(), dim=1)[:, :1025].abs() / math.sqrt(n)
    assert spec.shape == (3, 1025) and spec.is_complex()
    torch.testing.assert_close(spec.abs().double(), ref, rtol=0, atol=2e-3 * ref.max().item())


@pytest.mark.parametrize("m", [0.5, 1.0, 2.0])
def test_fbsp_window_is_the_sinc_power(m):
    """The layer is a DFT windowed by sqrt(fb) · sinc(fb t / m) ** m, the principal complex power (a negative lobe
    turns by π m: imaginary for m = 1/2, negative for m = 1)."""
    torch.manual_seed(2)
    n, fb = 2048, 2.0
    layer = FBSP()
    with torch.no_grad():
        layer.m.fill_(m)
        layer.fb.fill_(fb)
    x = torch.randn(2, n, dtype=torch.float64)
    t = math.pi * torch.linspace(-1, 1, n, dtype=torch.float64)
    window = math.sqrt(fb) * torch.complex(torch.sin(fb * t / m) / (fb * t / m), torch.zeros(n, dtype=t.dtype)) ** m
    y = x * window
    ref = torch.fft.fft(torch.cat([y[:, :1] + y[:, -1:], y[:, 1:-1]], dim=1), dim=1)[:, :1025].abs() / math.sqrt(n)
    got = layer(x.float()).abs().double()
    torch.testing.assert_close(got, ref, rtol=0, atol=2e-3 * ref.max().item())


def test_front_end_frames_and_the_tone_lands_in_its_band():
    net = ESResNeXtFBSP()
    frames = frame_signal(torch.arange(1.0, 70561.0), 1654, 561)
    assert frames.shape == (124, 1654)  # 1 + ceil((70560 - 1654) / 561)
    assert (frames[0, :48] == 0).all() and frames[0, 48] == 1 and (frames[-1, -49:] == 0).all()  # 97 zeros, split
    k = 500  # bin k of the initial fbsp is k / 2047 cycles per sample: band 1 (bins 341…681), row 159
    x = tone(AUDIOCLIP_RATE * k / 2047, AUDIOCLIP_RATE, AUDIOCLIP_SAMPLES, amplitude=0.5 * 32768)
    with torch.no_grad():
        image = net.log_power(x)
    assert image.shape == (1, 1, 3, 341, 124)
    mean = image[0, 0].mean(-1)
    assert divmod(mean.argmax().item(), 341) == (1, 159)
    assert torch.isfinite(image).all() and image.max() < 200


def test_examples_are_the_authors_input():
    cfg = clip_preset("tiny")
    x = tone(512, cfg.sample_rate, cfg.audio_samples)
    stereo = torch.cat([x, torch.zeros_like(x)], dim=1).repeat(2, 1, 1)
    ex = audioclip_examples(stereo, cfg.sample_rate)
    assert ex.shape == (2, 1, AUDIOCLIP_SAMPLES)  # channel 0, 1.6 s at 44.1 kHz
    one_second = cfg.audio_samples * AUDIOCLIP_RATE // cfg.sample_rate
    assert (ex[..., one_second:] == 0).all()  # zero-padded at the end
    assert ex.abs().max() <= 0.5 * 1.01 and ex[..., :one_second].abs().max() > 0.45  # the range is kept
    spectrum = torch.fft.rfft(ex[0, 0, :one_second]).abs()
    assert spectrum.argmax().item() == 512  # 1 Hz per bin over one second: still a 512 Hz tone
    long = audioclip_examples(tone(440, 16000, 48000), 16000)  # 3 s: cut to its first 1.6 s, in phase with t = 0
    torch.testing.assert_close(long[..., 1000:-1000], tone(440, AUDIOCLIP_RATE, AUDIOCLIP_SAMPLES)[..., 1000:-1000],
                               rtol=0, atol=5e-3)
    torch.testing.assert_close(audioclip_examples(x, cfg.sample_rate, int16_range=True), ex[:1] * 32768)
    with pytest.raises(ValueError, match=r"\(B, C, T\)"):
        audioclip_examples(torch.zeros(2, 4096), cfg.sample_rate)


def test_stand_in_checkpoint_loads_offline_and_gives_1024_d_features(checkpoint, no_network):
    path, net = checkpoint
    features = feature_network(f"audioclip:{path}", "tiny")
    assert not features.net.training
    torch.testing.assert_close(features.net.state_dict()["fc.weight"], net.state_dict()["fc.weight"])
    out = features(real_pairs("tiny", 3, seed=2))["audio"]
    assert out.shape == (3, 1024) and torch.isfinite(out).all() and out.std() > 0
    assert sha256_file(path)[:16] in features.describe() and features.describe().startswith("audioclip")


def test_a_file_that_is_not_the_full_checkpoint_is_refused_clearly(checkpoint, tmp_path):
    path, net = checkpoint
    head_only = tmp_path / "ESRNXFBSP.pt"
    torch.save(net.state_dict(), head_only)  # the head's tensors, but not under "audio."
    with pytest.raises(ValueError, match=rf"{head_only.name} holds no 'audio\.\*' tensors.*README"):
        feature_network(f"audioclip:{head_only}")
    state = {f"audio.{k}": v for k, v in net.state_dict().items()}
    state["audio.fc.weight"] = torch.zeros(527, 2048)  # an AudioSet classifier, not the 1024-d embedding
    wrong = tmp_path / "wrong.pt"
    torch.save(state, wrong)
    with pytest.raises(ValueError, match=r"wrong.pt does not fit the kit's AudioCLIP"):
        feature_network(f"audioclip:{wrong}")
    del state["audio.fbsp.bias"], state["audio.fc.weight"]
    torch.save(state, wrong)
    with pytest.raises(ValueError, match="does not fit"):
        feature_network(f"audioclip:{wrong}")


def test_eval_mode_is_batch_independent_and_batch_statistics_are_not(checkpoint):
    _, net = checkpoint
    torch.manual_seed(3)
    audio = torch.rand(4, 1, 2 * 4096) * 2 - 1
    x = audioclip_examples(audio, 4096)
    with torch.no_grad():
        both = net(x)
        alone = torch.cat([net(x[i:i + 1]) for i in range(4)])
    torch.testing.assert_close(alone, both, rtol=1e-5, atol=1e-5)
    short = x[..., :8820]  # 0.2 s: enough for the property, cheap
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad(), batch_statistics(net):
        pair = net(short[:2])
        other = net(short[[0, 2]])
    assert not net.training and all(not m.training for m in net.modules())
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())  # running statistics untouched
    assert (pair[0] - other[0]).abs().max() > 1e-3  # a clip's feature now depends on its batch
