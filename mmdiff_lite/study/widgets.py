"""The study's two players: a MOS widget (1–5 for video quality, audio quality and their match) and a Turing
widget (real or generated?), over one study set, saving every vote as it is given.

:func:`mos_widget` and :func:`turing_widget` return a :class:`StudySession`. In a live front end they show the
clip (a looping player with its sound), the questions and a submit button; each vote goes to the CSV at once
(:class:`mmdiff_lite.study.VoteLog`), so closing the tab loses nothing, and opening the widget again with the
same rater id resumes at the first clip not yet voted. Without a front end (papermill, CI), or with
``simulated=``, the same session is run to the end by a :class:`SimulatedRater` in one call: the votes go
through the same checks and the same file.

Taught in: notebooks/12_user_study.ipynb
"""
from __future__ import annotations

from pathlib import Path

from ..utils import has_frontend
from .clips import StudySet
from .rater import SimulatedRater
from .votes import MOS_QUESTIONS, MOS_SCALE, TASKS, Vote, VoteError, VoteLog

__all__ = ["StudySession", "simulate_raters", "mos_widget", "turing_widget"]


class StudySession:
    """One rater's pass over a study set in one task (``mos`` or ``turing``), resumable from the vote file."""

    def __init__(self, study: StudySet, votes, rater: str, task: str, stop_after: int | None = None):
        """``stop_after``: at most that many votes in this session (``None``: every clip not yet voted on)."""
        if task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        if stop_after is not None and (isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 0):
            raise ValueError(f"stop_after must be a whole number >= 0 or None, got {stop_after!r}")
        self.study, self.rater, self.task = study, str(rater), task
        self.log = votes if isinstance(votes, VoteLog) else VoteLog(votes, study)
        todo = self.log.remaining(self.rater, task)
        self.queue = todo if stop_after is None else todo[:stop_after]
        self.total = len(study)
        self._widget = None

    @property
    def current(self) -> str | None:
        """The id of the clip to vote on next (``None``: the session is done)."""
        return self.queue[0] if self.queue else None

    @property
    def done(self) -> int:
        """How many clips of the set this rater has voted on in this task (this session and earlier ones)."""
        return len(self.log.voted(self.rater, self.task))

    def submit(self, **answers) -> Vote:
        """Record the answers for the current clip and move on. If another session of the same rater (a second
        tab) voted on it meanwhile, the queue is refreshed from the file and the error says so."""
        if self.current is None:
            raise ValueError(f"rater {self.rater!r} has no clip left in this session")
        try:
            vote = self.log.add(self.rater, self.current, self.task, **answers)
        except VoteError as e:
            if "already voted" in str(e):
                left = set(self.log.remaining(self.rater, self.task))
                self.queue = [c for c in self.queue if c in left]
            raise
        self.queue.pop(0)
        return vote

    def skip(self) -> None:
        """Put the current clip at the end of the queue (it cannot be played, or the rater wants to see it later)."""
        if self.queue:
            self.queue.append(self.queue.pop(0))

    def run(self, rater: SimulatedRater) -> int:
        """Let a simulated rater answer every remaining clip; returns how many votes it gave."""
        n = 0
        while self.current is not None:
            self.submit(**rater.answers(self.study[self.current], self.task))
            n += 1
        return n

    # --- the live widget -------------------------------------------------------------------------------
    def widget(self):
        """The ipywidgets panel of this session (built once)."""
        if self._widget is not None:
            return self._widget
        import ipywidgets as w

        title, player, status = w.HTML(), w.HTML(), w.HTML()
        if self.task == "mos":
            toggles = {q: w.ToggleButtons(options=[(f"{k} {label}", k) for k, label in MOS_SCALE.items()], value=None,
                                          description="", style={"button_width": "78px"}) for q in MOS_QUESTIONS}
            rows = [w.VBox([w.HTML(f"<b>{text}</b>"), toggles[q]]) for q, text in MOS_QUESTIONS.items()]
            send = w.Button(description="Submit and next", button_style="primary", disabled=True)
            buttons = [send]

            def ready(_=None):
                send.disabled = any(t.value is None for t in toggles.values())

            for t in toggles.values():
                t.observe(ready, names="value")
            send.on_click(lambda _b: self._answer(show, **{q: t.value for q, t in toggles.items()}))
        else:
            toggles, rows = {}, [w.HTML("<b>Was this clip recorded or generated by a model?</b>")]
            real = w.Button(description="Real", button_style="success")
            fake = w.Button(description="Generated", button_style="warning")
            real.on_click(lambda _b: self._answer(show, judged_real=True))
            fake.on_click(lambda _b: self._answer(show, judged_real=False))
            buttons = [real, fake]
        skip = w.Button(description="Skip (see it later)")
        skip.on_click(lambda _b: (self.skip(), show()))
        buttons.append(skip)

        def show():
            for t in toggles.values():
                t.value = None
            if self.current is None:
                title.value = f"<h4>Thank you: all {self.total} clips voted (rater {self.rater}).</h4>"
                player.value = ""
                for b in buttons:
                    b.disabled = True
                return
            title.value = (f"<h4>Clip {self.done + 1} of {self.total} ({self.task}, rater {self.rater}): let it loop,"
                           " with sound</h4>")
            player.value = self.study.player(self.current)

        self._show, self._status = show, status
        show()
        self._widget = w.VBox([title, player, *rows, w.HBox(buttons), status])
        self._widget.add_class("mmdiff-study")
        return self._widget

    def _answer(self, show, **answers) -> None:
        try:
            if any(v is None for v in answers.values()):
                raise VoteError("answer every question first")
            vote = self.submit(**answers)
            self._status.value = f"<i>saved: clip {vote.clip} at {vote.time}</i>"
        except Exception as e:  # keep the widget alive and say what went wrong
            self._status.value = f"<b>not saved:</b> {type(e).__name__}: {e}"
        show()


def simulate_raters(study: StudySet, votes, n: int, *, prefix: str = "sim", seed: int = 0,
                    tasks=("turing", "mos"), one_file_each: bool = False, **policy) -> int:
    """Let ``n`` simulated raters ``<prefix>-00`` … vote on every clip of ``study`` in ``tasks`` (Turing first, as a
    class should), resuming where each stopped; returns the votes given. ``votes`` is one CSV, or with
    ``one_file_each`` a folder that gets ``votes-<rater>.csv`` per rater (as a teacher collects a class).
    ``policy``: :class:`SimulatedRater` options (``policy="coin"``, ``threshold=4.5``, …)."""
    given = 0
    for i in range(n):
        rater = SimulatedRater(f"{prefix}-{i:02d}", seed=seed, **policy)
        if isinstance(votes, VoteLog):
            log = votes
        else:
            log = VoteLog(Path(votes) / f"votes-{rater.rater}.csv" if one_file_each else votes, study)
        for task in tasks:
            given += StudySession(study, log, rater.rater, task).run(rater)
    return given


def _session(task, study, votes, rater, simulated, stop_after, seed):
    if simulated is None and not has_frontend():  # votes under an own id, so a person's id stays theirs
        simulated = SimulatedRater(f"sim-{rater}", seed=seed)
        print(f"(no widget front end: the simulated rater {simulated.rater!r} votes instead of {rater!r})")
    session = StudySession(study, votes, simulated.rater if simulated is not None else rater, task, stop_after)
    if simulated is not None:
        before = session.done
        n = session.run(simulated)
        print(f"{task}: rater {session.rater!r} gave {n} vote(s); {before} were already in {session.log.path.name}")
        return session
    from IPython.display import display

    if rater == "me":
        print("Voting as rater 'me': in a class, set RATER to your own id first, or your votes merge with others'.")
    display(session.widget())
    return session


def mos_widget(study: StudySet, votes, rater: str, *, simulated: SimulatedRater | None = None,
               stop_after: int | None = None, seed: int = 0) -> StudySession:
    """The MOS player for ``rater`` over ``study``, voting into the CSV ``votes`` (see the module). Headless, a
    simulated rater votes as ``sim-<rater>``; ``stop_after`` caps the votes of this session."""
    return _session("mos", study, votes, rater, simulated, stop_after, seed)


def turing_widget(study: StudySet, votes, rater: str, *, simulated: SimulatedRater | None = None,
                  stop_after: int | None = None, seed: int = 0) -> StudySession:
    """The Turing-test player ("real or generated?") for ``rater`` over ``study``, voting into ``votes`` (as
    :func:`mos_widget`). Run it before the MOS widget: rating the match first primes the real/generated call."""
    return _session("turing", study, votes, rater, simulated, stop_after, seed)
