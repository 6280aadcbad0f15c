"""study: the paper's user study, run on a class. A study set of real and generated clips under opaque ids,
MOS and Turing-test widgets that save every vote to a CSV atomically and resume, a seeded simulated rater for
headless runs, and the tally with its intervals beside the paper's numbers.

Uses the pipeline (to generate the clips) and the metrics (to score them and for the intervals); nothing below
it imports it. Taught in: notebooks/12_user_study.ipynb
"""
from .clips import REAL, StudyClip, StudySet, build_study_set, study_set_from_folder
from .rater import SimulatedRater
from .tally import PAPER_STUDY, tally, tally_markdown
from .votes import (FIELDS, MOS_QUESTIONS, MOS_SCALE, TASKS, Vote, VoteError, VoteLog, VoteProblem, read_vote_folder,
                    read_votes)
from .widgets import StudySession, mos_widget, simulate_raters, turing_widget

__all__ = ["REAL", "StudyClip", "StudySet", "build_study_set", "study_set_from_folder", "SimulatedRater", "PAPER_STUDY",
           "tally", "tally_markdown", "FIELDS", "MOS_QUESTIONS", "TASKS", "Vote", "VoteError", "VoteLog", "VoteProblem",
           "read_votes", "read_vote_folder", "MOS_SCALE", "StudySession", "simulate_raters", "mos_widget", "turing_widget"]
