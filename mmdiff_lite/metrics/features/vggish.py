"""VGGish (Hershey et al. 2017, AudioSet): the field's standard network for FAD. Never downloaded:
``--features vggish:PATH`` takes a plain state dict in the layout of the PyTorch port (harritaylor/torchvggish,
``vggish-10086976.pth``), loaded pickle-free (``torch.load(weights_only=True)``).

Preprocessing as VGGish's own input code describes it: mono, resampled to 16 kHz, a magnitude STFT with a
25 ms periodic Hann window and a 10 ms hop (512-point FFT), 64 mel bands over 125–7500 Hz (HTK mel scale),
log(mel + 0.01), cut into non-overlapping 0.96 s examples of 96 × 64. A clip shorter than one example is
padded with silence. A clip's feature is the mean of its examples' 128-d embeddings (no PCA post-processing).
The filter bank is torchaudio's HTK one, close to but not bit-identical with the TensorFlow reference.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["VGGish", "vggish_examples", "VGGISH_RATE"]

VGGISH_RATE = 16_000


class VGGish(nn.Module):
    """(N, 1, 96, 64) log-mel examples -> (N, 128) embeddings; module names as in the PyTorch port."""

    def __init__(self):
        super().__init__()
        layers, cin = [], 1
        for item in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M"):
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, item, 3, padding=1), nn.ReLU(inplace=True)]
                cin = item
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(nn.Linear(512 * 4 * 6, 4096), nn.ReLU(True), nn.Linear(4096, 4096),
                                        nn.ReLU(True), nn.Linear(4096, 128), nn.ReLU(True))

    def forward(self, x):
        x = self.features(x)  # (N, 512, 6, 4)
        x = x.permute(0, 2, 3, 1).contiguous()  # the TensorFlow port's (time, frequency, channel) order
        return self.embeddings(x.flatten(1))


def vggish_examples(audio: torch.Tensor, sample_rate: int) -> tuple[torch.Tensor, int]:
    """(B, C, T) in [-1, 1] at ``sample_rate`` -> ((B · K, 1, 96, 64) log-mel examples, K examples per clip).

    Taught in: notebooks/09_evaluation.ipynb
    """
    import torchaudio.functional as AF

    x = audio.float().mean(1)
    if sample_rate != VGGISH_RATE:
        x = AF.resample(x, sample_rate, VGGISH_RATE)
    window = torch.hann_window(400, periodic=True)
    spec = torch.stft(x, 512, 160, 400, window=window, center=False, return_complex=True).abs()  # (B, 257, frames)
    fb = AF.melscale_fbanks(257, 125.0, 7500.0, 64, VGGISH_RATE, norm=None, mel_scale="htk")  # (257, 64)
    logmel = torch.log(spec.transpose(1, 2) @ fb + 0.01)  # (B, frames, 64)
    k = max(1, logmel.shape[1] // 96)
    if logmel.shape[1] < 96 * k:
        logmel = F.pad(logmel, (0, 0, 0, 96 * k - logmel.shape[1]), value=float(torch.log(torch.tensor(0.01))))
    examples = logmel[:, : 96 * k].reshape(-1, k, 96, 64).reshape(-1, 1, 96, 64)
    return examples, k
