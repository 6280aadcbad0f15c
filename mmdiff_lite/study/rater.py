"""A simulated rater: a seeded stand-in for a person, so CI (and a teacher preparing a class) can run the whole
study without anyone watching.

Its policy reads the kit's own scores of a clip (``StudyClip.scores``), never its condition:

* video quality ≈ 1 + 4 · video plausibility, audio quality ≈ 1 + 4 · audio plausibility, and match
  ≈ 1 + 4 · (f1 + semantic)/2, each plus Gaussian noise of ``noise`` points, rounded and kept in 1…5;
* plus a rater's own leniency, one offset per rater drawn from N(0, ``bias``²) (a strict rater is strict on every
  clip: why the tally's MOS interval is taken over raters, not votes);
* "real" with probability σ(``slope`` · (m − ``threshold``)), m the mean of its three expected ratings
  (before the noise of each vote, after its leniency).

Each answer is drawn from a generator seeded by (seed, rater, the clip's source, question), not from one stream: a session
interrupted and resumed gives exactly the votes of one uninterrupted session. Clips without scores (a user's own)
get ratings around 3 and a fair coin. ``policy="coin"`` is a rater who cannot see the clips at all: ratings
uniform in 1…5 and a fair coin for "real", whatever the clip.

Taught in: notebooks/12_user_study.ipynb
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

from ..utils import derive_seed
from .clips import StudyClip
from .votes import TASKS

__all__ = ["SimulatedRater"]


@dataclass(frozen=True)
class SimulatedRater:
    """``SimulatedRater("sim-0", seed=0)``: ``.answers(clip, task)`` gives one vote's answers (see the module)."""
    rater: str = "sim-0"
    seed: int = 0
    noise: float = 0.6
    bias: float = 0.5
    threshold: float = 3.5
    slope: float = 2.0
    policy: str = "scores"

    def __post_init__(self):
        if self.policy not in ("scores", "coin"):
            raise ValueError(f"policy must be 'scores' or 'coin', got {self.policy!r}")

    def _rng(self, clip: StudyClip, question: str) -> random.Random:
        # seeded by where the clip came from, not by its id (a secret salt drawn per build): two builds of one set
        # give the same simulated votes
        return random.Random(derive_seed(self.seed, "rater", self.rater, clip.source, question))

    @property
    def leniency(self) -> float:
        """This rater's offset on every rating (0 when ``bias`` is 0)."""
        return random.Random(derive_seed(self.seed, "leniency", self.rater)).gauss(0.0, self.bias) if self.bias else 0.0

    def expected(self, clip: StudyClip) -> dict:
        """The policy's mean rating per MOS question, before the noise of each vote."""
        s = clip.scores
        if not s:
            return {q: 3.0 + self.leniency for q in TASKS["mos"]}
        return {"video_quality": 1 + 4 * s["video_plausibility"] + self.leniency,
                "audio_quality": 1 + 4 * s["audio_plausibility"] + self.leniency,
                "match": 1 + 2 * (s["f1"] + s["semantic"]) + self.leniency}

    def answers(self, clip: StudyClip, task: str) -> dict:
        if self.policy == "coin" and task in TASKS:
            if task == "mos":
                return {q: self._rng(clip, q).randint(1, 5) for q in TASKS["mos"]}
            return {"judged_real": self._rng(clip, "turing").random() < 0.5}
        if task == "mos":
            return {q: int(min(5, max(1, round(m + self._rng(clip, q).gauss(0.0, self.noise)))))
                    for q, m in self.expected(clip).items()}
        if task == "turing":
            if not clip.scores:
                p = 0.5
            else:
                mean = sum(self.expected(clip).values()) / 3
                p = 1.0 / (1.0 + math.exp(-self.slope * (mean - self.threshold)))
            return {"judged_real": self._rng(clip, "turing").random() < p}
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
