"""The tally of a user study: MOS per condition with 95% intervals, and the share of clips judged real with a
binomial interval, beside the paper's numbers.

* **MOS.** For each condition and question, the mean rating. Votes of one rater are not independent (a strict
  rater is strict on every clip), so with three raters or more the interval is a Student-t interval over the
  raters' own means (the rater is the independent unit); with fewer there is no interval. It covers the spread
  of raters for *these* clips: with a handful of clips per condition, other clips of the same model could score
  differently (a two-way bootstrap over raters and clips would cover both).
* **Turing test.** The share judged real, with Wilson's score interval
  (:func:`mmdiff_lite.metrics.wilson_interval`), per condition, real clips included: a generated share is read
  against the real clips' share under the same raters, not against 100%. Wilson treats every vote as independent;
  votes of one rater are not, so with few raters the interval is too narrow.

Taught in: notebooks/12_user_study.ipynb
"""
from __future__ import annotations

from collections import defaultdict

from ..metrics.intervals import t_interval, wilson_interval
from .clips import StudySet
from .votes import MOS_QUESTIONS, Vote, VoteProblem

__all__ = ["tally", "tally_markdown", "PAPER_STUDY"]

#: What the kit's reference gives of the paper's user study (Tables 5-6): the Turing test's share of generated
#: clips judged real. The MOS values and the vote counts are not in the reference and are not quoted here.
PAPER_STUDY = {"turing_generated_judged_real": {"Landscape": 0.849, "AIST++": 0.496},
               "note": "MM-Diffusion, Turing test (reference §10, unverified); MOS values not in the kit's reference"}


def _mos(votes: list[Vote], question: str) -> dict:
    by_rater = defaultdict(list)
    for v in votes:
        by_rater[v.rater].append(v.answers[question])
    if len(by_rater) >= 3:
        ci = t_interval([sum(r) / len(r) for r in by_rater.values()])
        unit = "raters"
    else:  # too few raters for an interval over raters; one over their votes would be too narrow
        ci = {**t_interval([a for r in by_rater.values() for a in r]), "half": None}
        unit = "votes (fewer than 3 raters: no interval)"
    return {"mean": ci["mean"], "half": ci["half"], "n_votes": len(votes), "n_raters": len(by_rater), "unit": unit}


def tally(votes: list[Vote], study: StudySet, problems: list[VoteProblem] = ()) -> dict:
    """``{condition: {"mos": {question: {...}}, "turing": {...}}, "problems": n, "raters": [...]}`` from the votes
    of one study (``problems`` from :meth:`VoteLog.read` are counted, so a tally says what it left out)."""
    groups = defaultdict(lambda: {"mos": [], "turing": []})
    seen, repeated = set(), 0
    for v in votes:
        key = (v.rater, v.clip, v.task)
        if key in seen:  # a list added to itself, or two files of one rater: the first vote counts
            repeated += 1
            continue
        seen.add(key)
        groups[study[v.clip].condition][v.task].append(v)
    out = {"conditions": {}, "raters": sorted({v.rater for v in votes}), "n_votes": len(seen),
           "problems": len(problems) + repeated}
    for condition in study.conditions:
        g = groups.get(condition, {"mos": [], "turing": []})
        row = {"mos": {q: _mos(g["mos"], q) for q in MOS_QUESTIONS} if g["mos"] else {}}
        if g["turing"]:
            k = sum(v.answers["judged_real"] for v in g["turing"])
            row["turing"] = wilson_interval(k, len(g["turing"]))
        out["conditions"][condition] = row
    return out


def _cell(m: dict) -> str:
    if not m:
        return "–"
    half = f" ± {m['half']:.2f}" if m["half"] is not None else ""
    return f"{m['mean']:.2f}{half}"


def tally_markdown(result: dict) -> str:
    """The tally as a markdown table, with the paper's Turing shares below it."""
    lines = ["| condition | video quality | audio quality | match | MOS votes (raters) | judged real [95% CI] |",
             "|---|---:|---:|---:|---:|---:|"]
    for condition, row in result["conditions"].items():
        mos = row["mos"]
        n = f"{mos['match']['n_votes']} ({mos['match']['n_raters']})" if mos else "0"
        t = row.get("turing")
        share = f"{t['share']:.0%} [{t['low']:.0%}, {t['high']:.0%}] of {t['n']}" if t else "–"
        lines.append(f"| {condition} | {_cell(mos.get('video_quality'))} | {_cell(mos.get('audio_quality'))} | "
                     f"{_cell(mos.get('match'))} | {n} | {share} |")
    units = {m["unit"] for row in result["conditions"].values() for m in row["mos"].values()}
    lines.append("")
    lines.append(f"MOS: mean ± 95% Student-t half-width over {' and '.join(sorted(units)) or 'votes'}. "
                 f"{result['n_votes']} votes from {len(result['raters'])} rater(s); "
                 f"{result['problems']} row(s) of the vote file could not be counted.")
    paper = ", ".join(f"{k} {v:.1%}" for k, v in PAPER_STUDY["turing_generated_judged_real"].items())
    lines.append(f"Paper ({PAPER_STUDY['note']}): generated clips judged real: {paper}.")
    return "\n".join(lines) + "\n"
