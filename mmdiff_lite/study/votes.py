"""Votes of a user study: one CSV row per vote, written atomically, read back with every bad row reported.

Columns (:data:`FIELDS`): ``rater``, ``clip`` (the opaque id), ``condition`` (the clip's hidden identity: ``real``
or the model that made it, written from the study set, never shown to the rater), ``task`` (``mos`` or
``turing``), the three MOS ratings ``video_quality``, ``audio_quality``, ``match`` (1–5, empty for a Turing vote),
``judged_real`` (``1`` or ``0``, empty for a MOS vote) and ``time`` (UTC, ISO 8601). A vote file thus says what
was voted on by itself; when it is read, each row's condition is checked against the set's, so a file from
another set is caught. Like ``set.json``, the file is the answer key: raters see the widget, not the file.

* :meth:`VoteLog.add` checks one vote and appends it by writing the whole file anew beside the old one and
  renaming it over (under a POSIX lock file, so two kernels on one machine cannot interleave; Windows and network
  file systems get no lock, so give every rater an own file there): a kill at any moment leaves the file with or
  without that vote, never half a row. Do not keep the file open in an editor while votes come in: saving it
  would write back the old rows.
* :meth:`VoteLog.read` keeps every good row and lists each bad one (:class:`VoteProblem`: a damaged row, a rating
  out of range, a clip id that is not in the set, a repeated vote) with its line number and what to do; nothing
  is dropped from the file, so a fixed row counts again at the next read.
* :meth:`VoteLog.remaining` is what a rater has not voted yet, in the rater's own order: a session that was
  interrupted resumes where it stopped.
* :func:`read_vote_folder` reads a class: every ``*.csv`` of a folder (one per student), with a rater id that
  votes in two files reported, not merged.

Taught in: notebooks/12_user_study.ipynb
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..utils import atomic_path
from .clips import StudySet

__all__ = ["FIELDS", "TASKS", "MOS_QUESTIONS", "MOS_SCALE", "Vote", "VoteProblem", "VoteError", "VoteLog", "read_votes",
           "read_vote_folder"]

FIELDS = ("rater", "clip", "condition", "task", "video_quality", "audio_quality", "match", "judged_real", "time")
#: The three MOS questions, as the paper asks them (video quality, audio quality, audio-video match).
MOS_QUESTIONS = {"video_quality": "How good is the video?", "audio_quality": "How good is the sound?",
                 "match": "How well do the sound and the picture belong together?"}
TASKS = {"mos": tuple(MOS_QUESTIONS), "turing": ("judged_real",)}
#: The absolute category rating scale (ITU-T P.910) every MOS question is answered on.
MOS_SCALE = {1: "bad", 2: "poor", 3: "fair", 4: "good", 5: "excellent"}


class VoteError(ValueError):
    """A vote that cannot be recorded (unknown clip, bad rating, a repeated vote, a damaged file)."""


@dataclass(frozen=True)
class Vote:
    rater: str
    clip: str
    task: str
    answers: dict  # question -> int (1-5) for mos; {"judged_real": bool} for turing
    time: str = ""
    condition: str = ""  # the clip's hidden identity, as the study set says


class VoteProblem(NamedTuple):
    """One row :meth:`VoteLog.read` could not count: its ``line`` in the file, the ``row`` as written, and ``why``."""
    line: int
    row: str
    why: str


def _rating(value, question: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return int(value)
    if isinstance(value, str) and value.strip() in {"1", "2", "3", "4", "5"}:
        return int(value)
    raise VoteError(f"{question} must be a whole number from 1 to 5, got {value!r}")


def _judged(value) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("1", "true", "real"):
        return True
    if s in ("0", "false", "generated"):
        return False
    raise VoteError(f"judged_real must be 1 (real) or 0 (generated), got {value!r}")


def check_vote(study: StudySet, rater: str, clip: str, task: str, answers: dict) -> dict:
    """The answers of one vote, checked and normalised (raises :class:`VoteError` with what is wrong)."""
    rater = str(rater)
    if not rater or rater != rater.strip() or not rater.isprintable() or any(ch in rater for ch in ',"'):
        raise VoteError(f"a rater id must be printable text without commas, quotes or surrounding spaces, got {rater!r}")
    if clip not in study:
        raise VoteError(f"clip {clip!r} is not in the study set at {study.root}: votes must name one of its "
                        f"{len(study)} clip ids")
    if task not in TASKS:
        raise VoteError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    want = set(TASKS[task])
    if set(answers) != want:
        raise VoteError(f"a {task} vote answers {', '.join(sorted(want))}; got {', '.join(sorted(answers)) or 'nothing'}")
    if task == "mos":
        return {q: _rating(answers[q], q) for q in TASKS["mos"]}
    return {"judged_real": _judged(answers["judged_real"])}


def _row(vote: Vote) -> dict:
    row = {k: "" for k in FIELDS}
    row.update(rater=vote.rater, clip=vote.clip, condition=vote.condition, task=vote.task, time=vote.time)
    for q, v in vote.answers.items():
        row[q] = str(int(v))
    return row


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path``'s sidecar ``.lock`` file (POSIX; elsewhere a no-op)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def read_votes(path, study: StudySet) -> tuple[list[Vote], list[VoteProblem]]:
    """Every countable vote in the CSV at ``path`` and every problem row (a missing file has neither)."""
    path = Path(path)
    if not path.is_file():
        return [], []
    text = path.read_text(encoding="utf-8-sig", errors="replace")  # a spreadsheet's byte-order mark is no field
    lines = text.split("\n")
    if not lines:
        return [], []
    header = next(csv.reader([lines[0]]))
    if tuple(header) != FIELDS:
        raise VoteError(f"{path} is not a vote file of this kit: its header is {lines[0]!r}, expected "
                        f"{','.join(FIELDS)}; point at the right file or move this one away")
    votes, problems, seen = [], [], set()
    for no, text in enumerate(lines[1:], start=2):
        text = text.rstrip("\r")
        if not text.strip():
            continue
        try:
            cells = next(csv.reader([text]))
            if len(cells) != len(FIELDS):
                raise VoteError(f"the row has {len(cells)} fields, a vote has {len(FIELDS)}: fix or delete the row")
            row = dict(zip(FIELDS, cells))
            others = [q for t, qs in TASKS.items() if t != row["task"] for q in qs if row[q] != ""]
            if row["task"] in TASKS and others:
                raise VoteError(f"a {row['task']} vote with {', '.join(others)} filled in: which task was it?")
            answers = check_vote(study, row["rater"], row["clip"], row["task"],
                                 {q: row[q] for q in TASKS.get(row["task"], ()) if row[q] != ""})
            if row["condition"] != study[row["clip"]].condition:
                raise VoteError(f"the row says clip {row['clip']} is {row['condition']!r}, the study set says "
                                f"{study[row['clip']].condition!r}: this vote belongs to another study set")
            key = (row["rater"], row["clip"], row["task"])
            if key in seen:
                raise VoteError("a repeated vote (same rater, clip and task): the first one counts")
            seen.add(key)
            votes.append(Vote(row["rater"], row["clip"], row["task"], answers, row["time"], row["condition"]))
        except (VoteError, csv.Error) as e:
            problems.append(VoteProblem(no, text, str(e)))
    return votes, problems


class VoteLog:
    """The vote file of one study set: ``VoteLog(path, study)``; see the module's doc."""

    def __init__(self, path, study: StudySet):
        self.path = Path(path)
        self.study = study

    def read(self) -> tuple[list[Vote], list[VoteProblem]]:
        return read_votes(self.path, self.study)

    def add(self, rater: str, clip: str, task: str, **answers) -> Vote:
        """Record one vote (checked first: a bad vote writes nothing); returns it."""
        answers = check_vote(self.study, rater, clip, task, answers)
        vote = Vote(str(rater), clip, task, answers, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    self.study[clip].condition)
        with _locked(self.path):
            old = self.path.read_bytes() if self.path.is_file() else b""
            if old:
                votes, _ = read_votes(self.path, self.study)  # also refuses a file that is not a vote file
                if any((v.rater, v.clip, v.task) == (vote.rater, clip, task) for v in votes):
                    raise VoteError(f"rater {rater!r} has already voted on clip {clip} ({task}); a vote is final")
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
            if not old:
                writer.writeheader()
            elif not old.endswith(b"\n"):
                old += b"\n"  # a row cut short by an editor: keep it as its own (reported) line
            writer.writerow(_row(vote))
            with atomic_path(self.path) as tmp:
                with open(tmp, "wb") as f:
                    f.write(old + buf.getvalue().encode("utf-8"))
                    f.flush()
                    os.fsync(f.fileno())
        return vote

    def voted(self, rater: str, task: str) -> set[str]:
        return {v.clip for v in self.read()[0] if v.rater == str(rater) and v.task == task}

    def remaining(self, rater: str, task: str) -> list[str]:
        """The clips ``rater`` has not voted on in ``task``, in the rater's order."""
        done = self.voted(rater, task)
        return [c for c in self.study.order_for(rater, task) if c not in done]


def read_vote_folder(folder, study: StudySet) -> tuple[list[Vote], list[VoteProblem]]:
    """The votes of every ``*.csv`` in ``folder`` (a class: one file per student) and every problem row. A rater id
    that also votes in an earlier file (two students who kept the default id) is reported for each of its rows in
    the later file, not merged; a file that is not a vote file is reported as one problem."""
    votes, problems, owner = [], [], {}
    for f in sorted(Path(folder).glob("*.csv")):
        try:
            mine, bad = read_votes(f, study)
        except VoteError as e:
            problems.append(VoteProblem(0, f.name, str(e)))
            continue
        problems += [p._replace(row=f"{f.name}: {p.row}") for p in bad]
        for v in mine:
            first = owner.setdefault(v.rater, f.name)
            if first != f.name:
                problems.append(VoteProblem(0, f"{f.name}: {v.rater},{v.clip},{v.task}",
                                            f"rater id {v.rater!r} also votes in {first}: give every rater an own id"))
            else:
                votes.append(v)
    return votes, problems
