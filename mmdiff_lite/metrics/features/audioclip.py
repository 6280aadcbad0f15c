"""AudioCLIP's audio head (Guzhov et al. 2021, "AudioCLIP: Extending CLIP to Image, Text and Audio"): ESResNeXt-fbsp,
the network behind MM-Diffusion's FAD. Never downloaded: ``--features audioclip:PATH`` takes the published full
checkpoint ``AudioCLIP-Full-Training.pt``, loaded pickle-free (``weights_only=True``); its ``audio.*`` tensors are
this network's, under the same names. Everything below was read from the sources named in brackets
([AC] = AndreyGuzhov/AudioCLIP, [MM] = researchmm/MM-Diffusion); the code is the kit's own.

Front end [AC model/audioclip.py: the audio head's arguments; model/esresnet/base.py ``_forward_pre_processing``;
model/esresnet/fbsp.py ``spectrogram``; utils/transforms.py ``scale``, ``frame_signal``]:

* the input (B, C, T) is cast to float32 and mapped by ``scale(x, -32768, 32767, -1, 1)``, i.e.
  x' = (x + 32768) · 2 / 65535 − 1: the head expects int16-range samples;
* frames of 1654 samples every 561 (hop), times a periodic Blackman-Harris window (scipy's
  ``get_window("blackmanharris", 1654, fftbins=True)``, kept as the buffer ``window``); the signal is zero-padded to
  a whole number of frames (half the padding in front, rounded down), each frame zero-padded to n_fft = 2048
  (197 + 197). No centring or reflection: ``torch.stft`` is not used by the fbsp model;
* the fbsp layer (``fbsp.m``, ``fbsp.fb``, ``fbsp.fc``: 1025 = n_fft/2 + 1 outputs, "onesided"; no bias, but
  ``bias=False`` registers ``Parameter(None)``, an empty ``fbsp.bias``; ``normalized=True``), a learnt Fourier
  basis over the N = 2048 frame samples, t_n = π · linspace(−1, 1, N)_n + 1e−8:

      w_k(n) = sqrt(fb_k) · sinc(fb_k t_n / (m_k + 1e−8)) ^ m_k · exp(−i fc_k t_n) / sqrt(N),  sinc(x) = sin(x)/x,

  the power taken as a complex power (a negative lobe of the sinc gets the phase π m_k); X_k = Σ_n frame_n w_k(n).
  At its initial values (m = 0, fb = 1, fc = k) the layer is a DFT of period N − 1, up to a phase per bin;
* the image: power |X_k|² (the phase is discarded); bins 0…1022 cut into three bands of 341 bins (1023 and 1024
  dropped) that are the 3 input channels, low band first; zero power replaced by 1e−18, then 10 · log10 (dB). No
  other clamping, no resizing (``spec_height = spec_width = -1``): (3, 341, frames) per audio channel.

Network [AC model/esresnet/base.py ``ResNetWithAttention``, fbsp.py ``ESResNeXtFBSP``, attention.py]: ResNeXt-50
32×4d (conv 7×7/2 3→64, BN, ReLU, max-pool 3/2; [3, 4, 6, 3] bottlenecks of width 2 · planes in 32 groups, stride
in the 3×3 conv, 1×1 projection + BN on each stage's first block). Around each stage an attention block
(``Attention2d``: the stage's input max-pooled to the stage's output size, depthwise conv, 1×1 conv, BN, sigmoid)
multiplies the stage's output: att1 (3, 1) 64→256, att2 (1, 5) 256→512, att3 (3, 1) 512→1024, att4 (1, 5)
1024→2048; att5 (3, 5) 2048→2048 multiplies the global average pool (its input max-pooled to 1 × 1). The pooled
2048-d vectors of the audio channels are summed and ``fc`` maps them to the 1024-d embedding. ``encode_audio``
returns that embedding as is; AudioCLIP's ``forward`` L2-normalises it [AC model/audioclip.py], but MM-Diffusion's
copy returns the raw embedding as its audio feature and their FAD uses it [MM evaluations/AudioCLIP/model/
audioclip.py (``features = (raw_audio_features, ...)``), evaluations/AudioCLIP/get_embedding.py]. So does the kit.

Checkpoint: by the architecture, 370 ``audio.*`` tensors (ResNeXt-50 with its 1024-d fc and the BN counters
``num_batches_tracked``: 320; attention 45; fbsp 4, the empty bias included; window 1) holding 32,104,771
parameters (buffers not counted): counted from the source code, not from the file, which the kit does not have.

How the MM-Diffusion authors call it [MM mm_diffusion/evaluator.py, mm_diffusion/multimodal_datasets.py,
evaluations/AudioCLIP/get_embedding.py]: the clip's audio is read with moviepy at 44.1 kHz (``AUDIO_RATE=44100``;
moviepy has ffmpeg decode 16-bit PCM in 2 channels and divides by 2^15, giving floats in [−1, 1) [Zulko/moviepy
moviepy/audio/io/readers.py]); channel 0 is kept; ``AUDIO_SIZE = [1, int(44100 * 1.6)]`` = 70,560 samples: a
shorter clip is zero-padded at the end, a longer one cut to its first 70,560 samples. The [−1, 1] floats go in
unscaled (``preprocess_audio`` returns them unchanged), so the head's own ``scale`` leaves amplitudes of about 3e−5
(plus an offset of 1/65535), whereas AudioCLIP's ESC-50 loader multiplies librosa's [−1, 1] audio by 32768 [AC
utils/datasets/esc50.py; its AudioSet loader is not among the repository's files]. The model is built with
``AudioCLIP(pretrained=...)`` and never put in eval mode: BatchNorm uses the statistics of each batch
(``BATCH_SIZE = 8`` per process). The factor multiplies the final Fréchet distance, not the audio:
``metric["fad"] = clip_fad.item() * 10000`` in evaluator.py at commit 3766a2f, ``* 1000`` at e180b3d (MM-Diffusion
issues #17 and #20 report the 1e3 and that the paper says 1e4); ``frechet_distance`` is the usual one [MM
evaluations/fvd/fvd.py].

The kit: :func:`audioclip_examples` reproduces that input (resampled with torchaudio rather than ffmpeg, clamped to
[−1, 1] as 16-bit decoding bounds it); the network runs in eval mode (the checkpoint's running statistics: a
clip's feature does not depend on its batch); :func:`batch_statistics` gives the authors' batch statistics. The kit
reports the Fréchet distance itself, without the 1e4.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

__all__ = ["ESResNeXtFBSP", "FBSP", "audioclip_examples", "batch_statistics", "blackman_harris", "frame_signal",
           "AUDIOCLIP_RATE", "AUDIOCLIP_SAMPLES", "AUDIOCLIP_TENSORS", "AUDIOCLIP_PARAMETERS"]

AUDIOCLIP_RATE = 44_100
AUDIOCLIP_SAMPLES = 70_560  # int(44100 * 1.6): MM-Diffusion's AUDIO_SIZE
AUDIOCLIP_TENSORS = 370  # state-dict entries of the audio head (under "audio." in the full checkpoint)
AUDIOCLIP_PARAMETERS = 32_104_771
N_FFT, HOP, WINDOW = 2048, 561, 1654
_EPS = 1e-8  # the fbsp layer's own epsilon (t and m are shifted by it)
_FLOOR = 1e-18  # power that stands in for zero before the log


def blackman_harris(n: int) -> torch.Tensor:
    """The periodic 4-term Blackman-Harris window of ``n`` samples (the one an FFT of length ``n`` wants)."""
    a = [0.35875, 0.48829, 0.14128, 0.01168]
    return torch.signal.windows.general_cosine(n, a=a, sym=False, dtype=torch.float64).float()


def frame_signal(x: torch.Tensor, length: int, hop: int) -> torch.Tensor:
    """(..., T) -> (..., frames, length): zero-padded to a whole number of frames, half the padding in front."""
    t = x.shape[-1]
    frames = 1 if t <= length else 1 + math.ceil((t - length) / hop)
    pad = (frames - 1) * hop + length - t
    if pad > 0:
        x = F.pad(x, (pad // 2, pad - pad // 2))
    return x.unfold(-1, length, hop)


class FBSP(nn.Module):
    """The fbsp layer: a learnt Fourier basis with a sinc-power window (see the module docstring's equation).
    ``forward``: real frames (..., N) -> complex spectrum (..., out_features)."""

    def __init__(self, out_features: int = N_FFT // 2 + 1, normalized: bool = True):
        super().__init__()
        self.normalized = normalized
        self.m = nn.Parameter(torch.zeros(out_features))
        self.fb = nn.Parameter(torch.ones(out_features))
        self.fc = nn.Parameter(torch.arange(out_features, dtype=torch.float32))
        # AudioCLIP's layer has no bias, but registers it as Parameter(None), an empty tensor the checkpoint holds.
        self.bias = nn.Parameter(torch.empty(0))

    def basis(self, n: int) -> torch.Tensor:
        """The complex weights w_k(n), (out_features, n)."""
        t = math.pi * torch.linspace(-1.0, 1.0, n, device=self.m.device) + _EPS
        m, fb, fc = self.m[:, None], self.fb[:, None], self.fc[:, None]
        arg = fb * t / (m + _EPS)
        s = torch.where(arg == 0, torch.ones_like(arg), torch.sin(arg) / arg)
        phase = torch.where(s < 0, math.pi * m, torch.zeros_like(s)) - fc * t  # the power's phase, then the kernel's
        w = torch.sqrt(fb) * s.abs() ** m
        w = torch.polar(w, phase)
        return w / math.sqrt(n) if self.normalized else w

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        w = self.basis(frames.shape[-1])
        both = frames @ torch.cat([w.real, w.imag]).T  # two real products: cheaper than a complex one
        re, im = both.chunk(2, dim=-1)
        return torch.complex(re, im)


class Attention2d(nn.Module):
    """ESResNet's attention: max-pool to the target size, depthwise conv, pointwise conv, BN, sigmoid."""

    def __init__(self, cin: int, cout: int, kernel: tuple, padding: tuple):
        super().__init__()
        self.conv_depth = nn.Conv2d(cin, cin, kernel, padding=padding, groups=cin)
        self.conv_point = nn.Conv2d(cin, cout, 1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor, size) -> torch.Tensor:
        x = F.adaptive_max_pool2d(x, size)
        return torch.sigmoid(self.bn(self.conv_point(self.conv_depth(x))))


class Bottleneck(nn.Module):
    """A ResNeXt bottleneck: 1×1, grouped 3×3 (carries the stride), 1×1 ×4, with a projected shortcut if needed."""

    def __init__(self, cin: int, planes: int, stride: int = 1, groups: int = 32, group_width: int = 4):
        super().__init__()
        width, cout = planes * group_width * groups // 64, planes * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


# (stage width, blocks, stride, attention kernel) of ResNeXt-50 with ESResNet's attention around each stage.
_STAGES = ((64, 3, 1, (3, 1)), (128, 4, 2, (1, 5)), (256, 6, 2, (3, 1)), (512, 3, 2, (1, 5)))


class ESResNeXtFBSP(nn.Module):
    """AudioCLIP's audio head: (B, C, T) samples at 44.1 kHz in the int16 range AudioCLIP assumes -> (B, 1024)
    raw embeddings. Parameter names and shapes are those of the checkpoint's ``audio.*`` tensors."""

    def __init__(self, embed_dim: int = 1024):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i, (planes, blocks, stride, kernel) in enumerate(_STAGES, start=1):
            cout = planes * 4
            layers = [Bottleneck(cin, planes, stride)] + [Bottleneck(cout, planes) for _ in range(blocks - 1)]
            setattr(self, f"layer{i}", nn.Sequential(*layers))
            setattr(self, f"att{i}", Attention2d(cin, cout, kernel, tuple(k // 2 for k in kernel)))
            cin = cout
        self.att5 = Attention2d(2048, 2048, (3, 5), (1, 2))
        self.fc = nn.Linear(2048, embed_dim)
        self.fbsp = FBSP()
        self.register_buffer("window", blackman_harris(WINDOW))

    def log_power(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, C, 3, 341, frames): the dB image of each audio channel (the front end above)."""
        x = (audio.float() + 32768.0) * 2.0 / 65535.0 - 1.0  # AudioCLIP's scale() from the int16 range to [-1, 1]
        frames = frame_signal(x, WINDOW, HOP) * self.window
        left = (N_FFT - WINDOW) // 2
        frames = F.pad(frames, (left, N_FFT - WINDOW - left))
        power = self.fbsp(frames).abs().square()  # (B, C, frames, 1025)
        band = power.shape[-1] // 3
        image = rearrange(power[..., : 3 * band], "b c t (k f) -> b c k f t", k=3)
        return 10.0 * torch.log10(torch.where(image > 0, image, torch.full_like(image, _FLOOR)))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        if audio.dim() != 3:
            raise ValueError(f"AudioCLIP's audio head takes (B, C, T) samples; got shape {tuple(audio.shape)}")
        image = self.log_power(audio)
        b = image.shape[0]
        x = rearrange(image, "b c k f t -> (b c) k f t")  # each audio channel on its own, as AudioCLIP does
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for i in range(1, 5):
            y = getattr(self, f"layer{i}")(x)
            x = y * getattr(self, f"att{i}")(x, y.shape[-2:])
        pooled = F.adaptive_avg_pool2d(x, 1) * self.att5(x, (1, 1))
        pooled = rearrange(pooled.flatten(1), "(b c) d -> b c d", b=b).sum(1)
        return self.fc(pooled)


def audioclip_examples(audio: torch.Tensor, sample_rate: int, int16_range: bool = False) -> torch.Tensor:
    """Kit audio (B, C, T) in [-1, 1] at ``sample_rate`` -> (B, 1, 70560): the input MM-Diffusion's FAD gives the
    head. Resampled to 44.1 kHz, channel 0, clamped to [-1, 1], zero-padded at the end or cut to its first 1.6 s.
    The authors pass these [-1, 1] floats unscaled; ``int16_range=True`` multiplies by 32768 instead, as AudioCLIP's
    own training data was (not the paper's protocol)."""
    import torchaudio.functional as AF

    if audio.dim() != 3 or audio.shape[-1] == 0:
        raise ValueError(f"audio must be (B, C, T) samples in [-1, 1]; got shape {tuple(audio.shape)}: "
                         "add the channel axis (audio[:, None]) for mono (B, T) audio")
    x = audio[:, :1].float()
    if sample_rate != AUDIOCLIP_RATE:
        x = AF.resample(x, int(sample_rate), AUDIOCLIP_RATE)
    x = x.clamp(-1.0, 1.0)
    if x.shape[-1] >= AUDIOCLIP_SAMPLES:
        x = x[..., :AUDIOCLIP_SAMPLES]
    else:
        x = F.pad(x, (0, AUDIOCLIP_SAMPLES - x.shape[-1]))
    return x * 32768.0 if int16_range else x


@contextmanager
def batch_statistics(net: nn.Module):
    """Run ``net``'s BatchNorm layers on each batch's own statistics, as the authors' evaluation does (their model is
    never put in eval mode), without changing the stored running statistics. Features then depend on the batch:
    the kit's feature extractor sends 8 clips at a time, the authors' per-process batch.

        with batch_statistics(features.net):
            out = features(pairs)
    """
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.training, m.track_running_stats) for m in norms]
    for m in norms:
        m.train()
        m.track_running_stats = False  # batch statistics, and the running ones are left alone
    try:
        yield net
    finally:
        for m, (training, track) in zip(norms, saved):
            m.train(training)
            m.track_running_stats = track
