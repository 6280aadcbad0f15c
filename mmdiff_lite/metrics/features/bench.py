"""The benchmark's own feature networks: small video and audio encoders trained on the synthetic clips, so that
FVD-bench, KVD-bench and FAD-bench run in seconds on a CPU, in CI, and need no downloaded weights.

Each encoder turns a clip into one embedding per frame, ``e_f`` (16 numbers), trained to say what the
benchmark's ground truth says about that frame (see :mod:`mmdiff_lite.train.features`):

* video: which colours are on screen, where each ball is, and whether a ball hits a wall on this frame;
* audio: whether a tone starts in this frame, and its pitch class.

A clip's feature is the mean and the standard deviation of ``e_f`` over its frames (32 numbers): what is
there, and how much it changes. Each feature is then standardised with the mean and spread it has on 2,048 real
clips (fixed at training time and shipped in the file), so that one unit means the same in every dimension and
the kernel distance's cubic kernel stays in a readable range. The **joint** feature (``fjd-bench``, the kit's addition) puts a pair's video
and audio features side by side with the correlation of the picture's impact probability and the sound's
onset probability at frame lags −3…3. FVD and FAD each look at one modality, so they cannot see whether
the sound belongs to the picture; the joint distance can (a no-cross-attention model makes plausible halves
that do not match).

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from ...data import ClipConfig, clip_preset

__all__ = ["BenchVideoEncoder", "BenchAudioEncoder", "BenchFeatures", "EMBED", "LAGS", "sync_lags"]

#: Width of the per-frame embedding e_f, and the frame lags of the joint feature's correlations.
EMBED = 16
LAGS = 3


def _frame_stats(e: torch.Tensor) -> torch.Tensor:
    """(B, F, E) per-frame embeddings -> (B, 2E): their mean and standard deviation over frames."""
    return torch.cat([e.mean(1), e.std(1, unbiased=False)], dim=1)


class BenchVideoEncoder(nn.Module):
    """(B, F, C, H, W) in [-1, 1] -> per-frame embedding (B, F, EMBED) and the heads trained on it.

    A per-frame CNN (two stride-2 convolutions, pooled to 4×4), then two temporal convolutions over frames.
    """

    def __init__(self, channels: int = 3, colours: int = 3, width: int = 32):
        super().__init__()
        self.colours = colours
        self.frame = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), nn.GELU(),
            nn.Conv2d(16, width, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(width, width, 3, stride=2, padding=1), nn.GELU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(width * 16, width))
        self.time = nn.Sequential(nn.Conv1d(width, width, 3, padding=1), nn.GELU(), nn.Conv1d(width, width, 3, padding=1))
        self.embed = nn.Linear(width, EMBED)
        self.heads = nn.Linear(EMBED, colours + 2 * colours + 1)  # colour present, (y, x) per colour, impact

    def frames(self, video: torch.Tensor) -> torch.Tensor:
        b = video.shape[0]
        h = rearrange(self.frame(rearrange(video, "b f c h w -> (b f) c h w")), "(b f) d -> b d f", b=b)
        h = h + self.time(h)
        return self.embed(rearrange(h, "b d f -> b f d"))

    def forward(self, video: torch.Tensor) -> dict:
        """``{"embedding": (B, F, EMBED), "present": (B, F, K) logits, "position": (B, F, K, 2),
        "impact": (B, F) logits}``."""
        e = self.frames(video)
        out = self.heads(e)
        k = self.colours
        return {"embedding": e, "present": out[..., :k], "position": rearrange(out[..., k:3 * k], "b f (k two) -> b f k two", two=2),
                "impact": out[..., -1]}


class BenchAudioEncoder(nn.Module):
    """(B, C, T) in [-1, 1] -> per-video-frame embedding (B, F, EMBED) and its heads.

    A log-magnitude STFT with four hops per video frame, three 2-D convolutions over (frequency, time),
    the frequency axis pooled away, four hops folded into one frame, two temporal convolutions.
    """

    def __init__(self, cfg: ClipConfig, width: int = 32):
        super().__init__()
        self.n_fft, self.hop, self.frames_per_clip = cfg.samples_per_frame, cfg.samples_per_frame // 4, cfg.num_frames
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        self.spec = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.GELU(),
            nn.Conv2d(16, width, 3, stride=(2, 1), padding=1), nn.GELU(),
            nn.Conv2d(width, width, 3, stride=(2, 1), padding=1), nn.GELU(), nn.AdaptiveAvgPool2d((8, None)))
        self.fold = nn.Conv1d(width * 8, width, 4, stride=4)
        self.time = nn.Sequential(nn.Conv1d(width, width, 3, padding=1), nn.GELU(), nn.Conv1d(width, width, 3, padding=1))
        self.embed = nn.Linear(width, EMBED)
        self.heads = nn.Linear(EMBED, 1 + len(cfg.pitches))  # onset, pitch class of a tone starting here

    def frames(self, audio: torch.Tensor) -> torch.Tensor:
        x = audio.mean(1)  # mono
        s = torch.stft(x, self.n_fft, self.hop, window=self.window.to(x.dtype), center=True, return_complex=True)
        s = torch.log1p(10.0 * s.abs())[:, None, :, : 4 * self.frames_per_clip]  # (B, 1, freq, 4F)
        h = rearrange(self.spec(s), "b c q t -> b (c q) t")
        h = self.fold(h)
        h = h + self.time(h)
        return self.embed(rearrange(h, "b d f -> b f d"))

    def forward(self, audio: torch.Tensor) -> dict:
        """``{"embedding": (B, F, EMBED), "onset": (B, F) logits, "pitch": (B, F, P) logits}``."""
        e = self.frames(audio)
        out = self.heads(e)
        return {"embedding": e, "onset": out[..., 0], "pitch": out[..., 1:]}


def sync_lags(p_video: torch.Tensor, p_audio: torch.Tensor, lags: int = LAGS) -> torch.Tensor:
    """(B, F) impact and onset probabilities -> (B, 2·lags+1): Σ_f p_v(f) · p_a(f + L) for L = −lags…lags.

    A pair in sync puts its mass at L = 0; a sound late by k frames at L = k.
    """
    f = p_video.shape[1]
    cols = []
    for lag in range(-lags, lags + 1):
        if lag >= 0:
            cols.append((p_video[:, : f - lag] * p_audio[:, lag:]).sum(1))
        else:
            cols.append((p_video[:, -lag:] * p_audio[:, : f + lag]).sum(1))
    return torch.stack(cols, dim=1)


class BenchFeatures(nn.Module):
    """Both encoders of one clip preset. ``forward(pair)`` -> ``{"video": (B, 32), "audio": (B, 32),
    "joint": (B, 32 + 32 + 7)}``: the features that FVD-bench, FAD-bench and the joint distance compare.

    Taught in: notebooks/09_evaluation.ipynb
    """

    def __init__(self, preset: str | ClipConfig = "tiny"):
        super().__init__()
        self.config = clip_preset(preset)
        self.video = BenchVideoEncoder(self.config.channels, len(self.config.colours))
        self.audio = BenchAudioEncoder(self.config)
        self.meta: dict = {}
        for kind, d in (("video", 2 * EMBED), ("audio", 2 * EMBED), ("lags", 2 * LAGS + 1)):
            self.register_buffer(f"{kind}_mean", torch.zeros(d))
            self.register_buffer(f"{kind}_std", torch.ones(d))

    @torch.no_grad()
    def raw(self, pair: dict) -> dict:
        """The unstandardised features ``{"video", "audio", "lags"}`` of a batch."""
        v, a = pair["video"].float(), pair["audio"].float()
        if tuple(v.shape[1:]) != self.config.video_shape or tuple(a.shape[1:]) != self.config.audio_shape:
            raise ValueError(f"bench features of preset {self.config.name!r} take video {self.config.video_shape} "
                             f"and audio {self.config.audio_shape} per clip, got {tuple(v.shape[1:])} and "
                             f"{tuple(a.shape[1:])}: use the feature network of the clips' own preset")
        ov, oa = self.video(v), self.audio(a)
        return {"video": _frame_stats(ov["embedding"]), "audio": _frame_stats(oa["embedding"]),
                "lags": sync_lags(torch.sigmoid(ov["impact"]), torch.sigmoid(oa["onset"]))}

    @torch.no_grad()
    def calibrate(self, pair: dict) -> None:
        """Fix the standardisation from real clips ``pair``: each video and audio feature by its own mean and
        spread; the lag correlations by their means and one pooled spread (some lags are almost never hit by real
        pairs, and a spread of nearly 0 would let them swamp the rest)."""
        for kind, x in self.raw(pair).items():
            std = x.std(0) if kind != "lags" else (x - x.mean(0)).std().expand(x.shape[1])
            getattr(self, f"{kind}_mean").copy_(x.mean(0))
            getattr(self, f"{kind}_std").copy_(std.clamp_min(1e-6))

    def describe(self) -> str:
        """Which networks these are, for a result's record."""
        return f"bench ({self.config.name} encoders, {self.meta.get('steps', '?')} training steps)"

    @torch.no_grad()
    def forward(self, pair: dict) -> dict:
        z = {k: (x - getattr(self, f"{k}_mean")) / getattr(self, f"{k}_std") for k, x in self.raw(pair).items()}
        return {"video": z["video"], "audio": z["audio"], "joint": torch.cat([z["video"], z["audio"], z["lags"]], dim=1)}
