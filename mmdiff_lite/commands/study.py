"""``mmdiff-lite study``: the paper's user study on a class (MOS and Turing test).

    mmdiff-lite study build --out study/ --models tiny tiny-nocross --n 8     # real + generated clips, opaque ids
    mmdiff-lite study build --out study/ --from my_clips/                      # my_clips/<condition>/*.mp4
    mmdiff-lite study simulate --set study/ --votes votes.csv --raters 5      # seeded stand-in raters (no person)
    mmdiff-lite study tally --set study/ --votes votes.csv [--markdown T.md]  # MOS ± 95% CI, share judged real
    mmdiff-lite study tally --set study/ --votes class_votes/                # a folder: one CSV per student

People vote in notebook 12 (``mmdiff_lite.study.mos_widget`` / ``turing_widget``), into the same CSV. Bad rows of
a vote file are listed with their line numbers; the other votes still count.
"""
from __future__ import annotations

import argparse

from ..fields import at_least


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("study", help="user study: build a clip set, simulate raters, tally votes",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    act = p.add_subparsers(dest="action", required=True)
    b = act.add_parser("build", help="a study set of real and generated clips")
    b.add_argument("--out", required=True, help="the study set's folder (a rerun with the same settings is free)")
    b.add_argument("--models", nargs="+", default=["tiny", "tiny-nocross"], help="shipped models (default: tiny tiny-nocross)")
    b.add_argument("--n", type=at_least(1), default=8, help="clips per condition (default: 8)")
    b.add_argument("--from", dest="source", help="use your own clips instead: FOLDER/<condition>/*.mp4 (real/ for real ones)")
    b.add_argument("--seed", type=at_least(0), default=0)
    s = act.add_parser("simulate", help="seeded simulated raters vote (MOS and Turing) on a set")
    s.add_argument("--set", required=True, dest="set_dir")
    s.add_argument("--votes", required=True, help="the vote CSV (appended to; raters resume)")
    s.add_argument("--raters", type=at_least(1), default=5, help="number of simulated raters sim-00 … (default: 5)")
    s.add_argument("--seed", type=at_least(0), default=0)
    t = act.add_parser("tally", help="MOS per condition with 95%% CIs and the share judged real")
    t.add_argument("--set", required=True, dest="set_dir")
    t.add_argument("--votes", required=True, help="a vote CSV, or a folder of them (one per rater)")
    t.add_argument("--markdown", help="also write the table to this file (atomically)")
    p.set_defaults(func=run)


def run(args) -> int:
    import mmdiff_lite.study as st

    if args.action == "build":
        if args.source:
            s = st.study_set_from_folder(args.source, args.out, seed=args.seed)
        else:
            s = st.build_study_set(args.out, models=args.models, n=args.n, seed=args.seed, progress=True)
        print(f"study set {args.out}: {len(s)} clips, conditions {', '.join(s.conditions)}")
        return 0
    study = st.StudySet.load(args.set_dir)
    log = st.VoteLog(args.votes, study)
    if args.action == "simulate":
        st.simulate_raters(study, log, args.raters, seed=args.seed)
    from pathlib import Path

    votes, problems = st.read_vote_folder(args.votes, study) if Path(args.votes).is_dir() else log.read()
    for p in problems:
        print(f"{args.votes}:{p.line}: not counted: {p.why} ({p.row})")
    table = st.tally_markdown(st.tally(votes, study, problems))
    print(table, end="")
    if getattr(args, "markdown", None):
        from ..utils import atomic_path

        with atomic_path(args.markdown) as tmp:
            tmp.write_text(table)
    return 0
