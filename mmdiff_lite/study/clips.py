"""The clips a user study plays: a shuffled mix of real and generated pairs, each under an opaque id.

A study set is a folder with one mp4 (video with its sound) per clip and ``set.json``, which keeps each clip's
hidden identity: its condition (``real`` or the model that made it), where it came from, and, for benchmark clips,
the kit's own scores of it (sync, semantic, plausibility; the simulated rater reads them, a person never sees
them). The file names are the ids, hashes salted with a secret drawn when the set is built (deliberately not from
the seed: a seed would let anyone recompute them), so nothing on screen gives a clip away. The blinding holds only while raters do not open the folder:
``set.json`` is the answer key (and generated mp4s may differ from real ones in size), so a teacher builds the set
and gives the class only the notebook's players.

* :func:`build_study_set` makes one from benchmark clips and the shipped models (DPM-Solver-20);
* :func:`study_set_from_folder` makes one from a user's own mp4s in ``<folder>/<condition>/*.mp4``;
* :meth:`StudySet.order_for` is each rater's own shuffled order per task (seeded by the rater id and the task), so
  two raters do not see the clips in the same order, and an interrupted session resumes in the same order.

Taught in: notebooks/12_user_study.ipynb
"""
from __future__ import annotations

import hashlib
import json
import random
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..utils import derive_seed, write_json

__all__ = ["StudyClip", "StudySet", "build_study_set", "study_set_from_folder", "REAL"]

#: The condition name of real (not generated) clips.
REAL = "real"
_VERSION = 1


@dataclass(frozen=True)
class StudyClip:
    """One clip of a study: its opaque ``id``, hidden ``condition`` and ``source``, its mp4 ``file`` (relative to
    the set's folder) and the kit's ``scores`` of it (empty for a user's own clips)."""
    id: str
    condition: str
    file: str
    source: str
    scores: dict = field(default_factory=dict)

    @property
    def is_real(self) -> bool:
        return self.condition == REAL


@dataclass(frozen=True)
class StudySet:
    """The clips of one study (:func:`build_study_set`, :func:`study_set_from_folder`, :meth:`load`)."""
    root: Path
    clips: tuple[StudyClip, ...]
    seed: int = 0
    preset: str | None = None
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        ids = [c.id for c in self.clips]
        if len(set(ids)) != len(ids):
            raise ValueError("a study set's clip ids must be unique")
        object.__setattr__(self, "_by_id", {c.id: c for c in self.clips})

    def __len__(self) -> int:
        return len(self.clips)

    def __contains__(self, clip_id: str) -> bool:
        return clip_id in self._by_id

    def __getitem__(self, clip_id: str) -> StudyClip:
        try:
            return self._by_id[clip_id]
        except KeyError:
            raise KeyError(f"clip {clip_id!r} is not in the study set at {self.root} ({len(self)} clips); "
                           "votes must come from this set") from None

    @property
    def conditions(self) -> list[str]:
        """The conditions: real first, then the models in the order the set was built with."""
        order = self.settings.get("models") or list(self.settings.get("files", {}))
        seen = set(c.condition for c in self.clips)
        rank = {c: i for i, c in enumerate(order)}
        return sorted(seen, key=lambda c: (c != REAL, rank.get(c, len(rank)), c))

    def path(self, clip_id: str) -> Path:
        return self.root / self[clip_id].file

    def player(self, clip_id: str, width: int = 256) -> str:
        """HTML of one clip: a looping ``<video controls>`` with its sound (the mp4 inlined), and nothing that names
        its condition."""
        import base64

        b64 = base64.b64encode(self.path(clip_id).read_bytes()).decode()
        return (f'<video class="mmdiff-study-clip" controls loop width="{width}" '
                f'src="data:video/mp4;base64,{b64}"></video>')

    def order_for(self, rater: str, task: str = "mos") -> list[str]:
        """Clip ids in ``rater``'s order for ``task``: a shuffle seeded by the set's seed, the rater id and the task."""
        ids = [c.id for c in self.clips]
        random.Random(derive_seed(self.seed, "order", str(rater), task)).shuffle(ids)
        return ids

    def save(self) -> None:
        write_json(self.root / "set.json", {"version": _VERSION, "seed": self.seed, "preset": self.preset,
                                            "settings": self.settings, "clips": [asdict(c) for c in self.clips]})

    @classmethod
    def load(cls, root) -> "StudySet":
        """The study set in folder ``root`` (its ``set.json``), every clip's file checked."""
        root = Path(root)
        f = root / "set.json"
        if not f.is_file():
            raise FileNotFoundError(f"{root} is not a study set (no set.json): make one with build_study_set or "
                                    "study_set_from_folder (mmdiff-lite study build)")
        try:
            rec = json.loads(f.read_text())
            clips = tuple(StudyClip(**c) for c in rec["clips"])
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{f} is damaged ({e}); build the set again") from None
        missing = [c.file for c in clips if not (root / c.file).is_file()]
        if missing:
            raise FileNotFoundError(f"the study set {root} lacks {len(missing)} clip file(s), e.g. {missing[0]}; "
                                    "build it again")
        return cls(root, clips, rec.get("seed", 0), rec.get("preset"), rec.get("settings", {}))


def _clip_id(salt: str, condition: str, index: int) -> str:
    return "c" + hashlib.sha256(f"{salt}/{condition}/{index}".encode()).hexdigest()[:8]


def _existing(out: Path, settings: dict) -> StudySet | None:
    """The set already in ``out`` if it was built with ``settings`` (a rerun is free); refuse any other folder."""
    if (out / "set.json").is_file():
        old = StudySet.load(out)
        if old.settings == settings:
            return old
        raise FileExistsError(f"{out} holds a study set built with other settings ({old.settings}); choose another "
                              "folder, or pass overwrite=True to replace it (its votes then no longer fit)")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty and is not a study set; choose an empty or new folder")
    return None


def _per_clip_scores(video, audio, preset) -> list[dict]:
    from ..metrics import score_pairs

    s = score_pairs(video, audio, preset)
    keys = ("f1", "f1_exact", "semantic", "video_plausibility", "audio_plausibility")
    return [{k: round(float(s[k][i]), 4) for k in keys} for i in range(video.shape[0])]


def build_study_set(out, *, models=("tiny", "tiny-nocross"), n: int = 8, seed: int = 0, steps: int = 20,
                    overwrite: bool = False, progress: bool = False) -> StudySet:
    """A study set of ``n`` real benchmark clips and ``n`` clips of each shipped model in ``models`` (DPM-Solver-20
    from seed-derived noise), written to ``out`` as mp4s with their sound. Rebuilding with the same settings
    returns the stored set without work; other settings in the same folder are refused unless ``overwrite``.
    """
    from ..data import SyntheticClips, clip_preset, write_mp4
    from ..pipeline import generate, load_model, sampling_setup

    if n < 1:
        raise ValueError("a study set needs n >= 1 clips per condition")
    out = Path(out)
    models = tuple(models)
    if REAL in models:
        raise ValueError(f"{REAL!r} is the name of the real clips; it cannot be a model")
    settings = {"models": list(models), "n": n, "seed": seed, "steps": steps, "sampler": "dpm_solver"}
    if overwrite and out.exists():
        shutil.rmtree(out)
    old = _existing(out, settings)
    if old is not None:
        return old
    loaded = {name: load_model(name) for name in models}
    presets = {sampling_setup(meta)[1] for _, meta in loaded.values()}
    if len(presets) > 1:
        raise ValueError(f"the models of one study must make clips of one preset, got {sorted(presets)}")
    preset = presets.pop() if presets else "tiny"
    cfg = clip_preset(preset)
    sets = {REAL: SyntheticClips(preset, seed=derive_seed(seed, "study-real")).batch(range(n))}
    for name, (model, meta) in loaded.items():
        schedule, _ = sampling_setup(meta)
        sets[name] = generate(model, n, method="dpm_solver", steps=steps, order=3, seed=derive_seed(seed, "study", name),
                              schedule=schedule, progress=progress)
    clips, salt = [], secrets.token_hex(8)
    for condition, pairs in sets.items():
        scores = _per_clip_scores(pairs["video"], pairs["audio"], cfg)
        for i in range(n):
            cid = _clip_id(salt, condition, i)
            write_mp4(out / f"{cid}.mp4", pairs["video"][i], pairs["audio"][i], cfg.fps, cfg.sample_rate, scale=8)
            source = f"benchmark clip {i}" if condition == REAL else f"{condition}, generated pair {i}"
            clips.append(StudyClip(cid, condition, f"{cid}.mp4", source, scores[i]))
    random.Random(secrets.randbits(64)).shuffle(clips)  # set.json's order says nothing either
    study = StudySet(out, tuple(clips), seed, preset, settings)
    study.save()  # last: a folder without set.json is an unfinished build, refused rather than trusted
    return study


def study_set_from_folder(folder, out=None, *, seed: int = 0) -> StudySet:
    """A study set from a user's own clips: ``folder/<condition>/*.mp4`` (``folder/real/`` for the real ones),
    copied under opaque names into ``out`` (default ``folder/study``)."""
    folder = Path(folder)
    out = Path(out) if out is not None else folder / "study"
    groups = {d.name: sorted(d.glob("*.mp4")) for d in sorted(folder.iterdir()) if d.is_dir() and d != out} \
        if folder.is_dir() else {}
    groups = {k: v for k, v in groups.items() if v}
    if not groups:
        raise FileNotFoundError(f"{folder} has no <condition>/*.mp4 clips; put real clips in {folder}/real/ and "
                                "each model's in a folder named after it")
    settings = {"from": str(folder.resolve()), "files": {k: [p.name for p in v] for k, v in groups.items()},
                "seed": seed}
    old = _existing(out, settings)
    if old is not None:
        return old
    out.mkdir(parents=True, exist_ok=True)
    clips, salt = [], secrets.token_hex(8)
    for condition, files in groups.items():
        for i, f in enumerate(files):
            cid = _clip_id(salt, condition, i)
            shutil.copyfile(f, out / f"{cid}.mp4")
            clips.append(StudyClip(cid, condition, f"{cid}.mp4", str(f.relative_to(folder))))
    random.Random(secrets.randbits(64)).shuffle(clips)
    study = StudySet(out, tuple(clips), seed, None, settings)
    study.save()
    return study
