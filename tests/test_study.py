"""The user study (issue 17, part 2): votes saved atomically and resumed, bad rows reported while the others are
kept, the simulated rater's determinism, the intervals' closed forms, and the live widget driven by its buttons."""
import csv
import math
import os

import pytest
import torch

import mmdiff_lite.study as st
from mmdiff_lite.metrics import t_interval, wilson_interval
from mmdiff_lite.study.votes import check_vote


def _scores(q):
    return {"f1": q, "f1_exact": q, "semantic": q, "video_plausibility": q, "audio_plausibility": q}


@pytest.fixture
def study(tmp_path):
    """A hand-made set: 3 real clips that score 1, 3 'good' and 3 'bad' generated ones (dummy mp4 bytes)."""
    clips = []
    for cond, q in (("real", 1.0), ("good", 0.9), ("bad", 0.1)):
        for i in range(3):
            cid = f"c{cond[0]}{i}"
            (tmp_path / f"{cid}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes([i]))
            clips.append(st.StudyClip(cid, cond, f"{cid}.mp4", f"{cond} {i}", _scores(q)))
    s = st.StudySet(tmp_path, tuple(clips), seed=0, settings={"models": ["good", "bad"]})
    s.save()
    return st.StudySet.load(tmp_path)


def test_votes_round_trip_one_row_each(study, tmp_path):
    log = st.VoteLog(tmp_path / "votes.csv", study)
    log.add("ann", "cr0", "mos", video_quality=5, audio_quality="4", match=3)
    log.add("ann", "cb1", "turing", judged_real=False)
    rows = list(csv.reader((tmp_path / "votes.csv").read_text().splitlines()))
    assert tuple(rows[0]) == st.FIELDS and len(rows) == 3 and all(len(r) == len(st.FIELDS) for r in rows)
    votes, problems = log.read()
    assert not problems
    assert votes[0].answers == {"video_quality": 5, "audio_quality": 4, "match": 3}
    assert votes[1].answers == {"judged_real": False} and votes[1].clip == "cb1"
    assert [r[2] for r in rows[1:]] == ["real", "bad"]  # each row names the clip's hidden identity
    (tmp_path / "votes.csv").write_text((tmp_path / "votes.csv").read_text().replace(",bad,", ",good,"))
    votes, problems = log.read()  # a row whose identity disagrees with the set is from another set
    assert len(votes) == 1 and "another study set" in problems[0].why


@pytest.mark.parametrize("bad", [dict(video_quality=6, audio_quality=3, match=3),
                                 dict(video_quality=0, audio_quality=3, match=3),
                                 dict(video_quality="3.5", audio_quality=3, match=3),
                                 dict(video_quality=True, audio_quality=3, match=3),
                                 dict(video_quality=3, audio_quality=3)])
def test_a_bad_vote_writes_nothing(study, tmp_path, bad):
    log = st.VoteLog(tmp_path / "votes.csv", study)
    with pytest.raises(st.VoteError):
        log.add("ann", "cr0", "mos", **bad)
    assert not (tmp_path / "votes.csv").exists()


def test_unknown_clip_repeat_and_rater_refused(study, tmp_path):
    log = st.VoteLog(tmp_path / "votes.csv", study)
    with pytest.raises(st.VoteError, match="not in the study set"):
        log.add("ann", "nope", "turing", judged_real=True)
    log.add("ann", "cr0", "turing", judged_real=True)
    with pytest.raises(st.VoteError, match="already voted"):
        log.add("ann", "cr0", "turing", judged_real=False)
    with pytest.raises(st.VoteError, match="rater id"):
        check_vote(study, "a,b", "cr0", "turing", {"judged_real": 1})
    assert len(log.read()[0]) == 1


def test_damaged_rows_reported_and_the_rest_kept(study, tmp_path):
    log = st.VoteLog(tmp_path / "votes.csv", study)
    log.add("ann", "cr0", "turing", judged_real=True)
    with open(tmp_path / "votes.csv", "a") as f:
        f.write("ann,zzz,real,turing,,,,1,2026\n")      # a clip id that is not in the set
        f.write("bob,cg0,good,mos,9,3,3,,2026\n")       # a rating out of range
        f.write("half a row")                      # cut short, no newline
    log.add("bob", "cg1", "turing", judged_real=False)  # still appends after the damaged rows
    votes, problems = log.read()
    assert [(v.rater, v.clip) for v in votes] == [("ann", "cr0"), ("bob", "cg1")]
    assert [p.line for p in problems] == [3, 4, 5]
    assert "not in the study set" in problems[0].why and "1 to 5" in problems[1].why and "fields" in problems[2].why
    assert "half a row" in (tmp_path / "votes.csv").read_text()  # nothing is dropped from the file
    result = st.tally(votes, study, problems)
    assert result["problems"] == 3 and "3 row(s)" in st.tally_markdown(result)


def test_a_foreign_csv_is_refused(study, tmp_path):
    (tmp_path / "votes.csv").write_text("name,score\nx,1\n")
    with pytest.raises(st.VoteError, match="not a vote file"):
        st.VoteLog(tmp_path / "votes.csv", study).read()


def test_a_crash_while_writing_keeps_the_last_good_file(study, tmp_path, monkeypatch):
    log = st.VoteLog(tmp_path / "votes.csv", study)
    log.add("ann", "cr0", "turing", judged_real=True)
    before = (tmp_path / "votes.csv").read_bytes()

    def killed(*a, **k):
        raise KeyboardInterrupt("killed while renaming")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        log.add("ann", "cr1", "turing", judged_real=True)
    monkeypatch.undo()
    assert (tmp_path / "votes.csv").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_rater_orders_are_shuffles_of_the_set(study):
    a, b = study.order_for("ann"), study.order_for("bob")
    assert sorted(a) == sorted(c.id for c in study.clips) == sorted(b)
    assert a != b and a == study.order_for("ann")


def test_an_interrupted_session_resumes_to_the_same_votes(study, tmp_path):
    rater = st.SimulatedRater("ann", seed=3)
    whole = st.StudySession(study, tmp_path / "one.csv", "ann", "mos")
    assert whole.run(rater) == len(study)
    first = st.StudySession(study, tmp_path / "two.csv", "ann", "mos", stop_after=4)
    assert first.run(rater) == 4 and first.current is None
    with pytest.raises(ValueError, match="stop_after"):
        st.StudySession(study, tmp_path / "two.csv", "ann", "mos", stop_after=-1)
    again = st.StudySession(study, tmp_path / "two.csv", "ann", "mos")
    assert again.done == 4 and again.run(rater) == len(study) - 4
    one = {v.clip: v.answers for v in st.read_votes(tmp_path / "one.csv", study)[0]}
    two = {v.clip: v.answers for v in st.read_votes(tmp_path / "two.csv", study)[0]}
    assert one == two and len(one) == len(study)


def test_simulated_rater_follows_its_policy(study):
    rater = st.SimulatedRater("sim", seed=0, noise=0.0, bias=0.0)
    good, bad = study["cg0"], study["cb0"]
    assert rater.answers(good, "mos") == {"video_quality": 5, "audio_quality": 5, "match": 5}  # 1 + 4 * 0.9 = 4.6
    assert rater.answers(bad, "mos") == {"video_quality": 1, "audio_quality": 1, "match": 1}   # 1 + 4 * 0.1 = 1.4
    many = [st.SimulatedRater(f"r{i}", seed=0, bias=0.0).answers(bad, "turing")["judged_real"] for i in range(200)]
    p = 1 / (1 + math.exp(-2.0 * (1.4 - 3.5)))
    assert abs(sum(many) / 200 - p) < 4 * math.sqrt(p * (1 - p) / 200)


def test_wilson_interval_closed_forms():
    z2 = 1.959963984540054 ** 2
    none = wilson_interval(0, 10)
    assert none["low"] == 0 and none["high"] == pytest.approx(z2 / (10 + z2))
    half = wilson_interval(50, 100)
    assert half["low"] + half["high"] == pytest.approx(1.0) and half["low"] == pytest.approx(0.4038, abs=1e-4)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_t_interval_closed_form():
    ci = t_interval([1.0, 2.0, 3.0])
    assert ci["mean"] == 2.0 and ci["half"] == pytest.approx(4.302652729911275 * 1.0 / math.sqrt(3))
    assert t_interval([4.0])["half"] is None


def test_tally_per_condition_and_unit(study, tmp_path):
    log = st.VoteLog(tmp_path / "v.csv", study)
    for r in ("a", "b", "c"):
        st.StudySession(study, log, r, "mos").run(st.SimulatedRater(r, noise=0.0, bias=0.0))
        st.StudySession(study, log, r, "turing").run(st.SimulatedRater(r, bias=0.0))
    result = st.tally(*log.read()[:1], study)
    rows = result["conditions"]
    assert list(rows) == ["real", "good", "bad"]
    assert rows["real"]["mos"]["match"]["mean"] == 5 and rows["bad"]["mos"]["match"]["mean"] == 1
    assert rows["good"]["mos"]["match"]["unit"] == "raters" and rows["good"]["mos"]["match"]["n_votes"] == 9
    assert rows["bad"]["turing"]["n"] == 9 and rows["bad"]["turing"]["share"] < rows["real"]["turing"]["share"]
    one = st.tally([v for v in log.read()[0] if v.rater == "a"], study)
    assert one["conditions"]["good"]["mos"]["match"]["unit"].startswith("votes")
    assert one["conditions"]["good"]["mos"]["match"]["half"] is None  # no interval from one rater's votes
    twice = st.tally(log.read()[0] * 2, study)  # a list added to itself counts once, and says so
    assert twice["n_votes"] == result["n_votes"] and twice["problems"] == result["n_votes"]


def test_live_widget_records_the_clicks(study, tmp_path, monkeypatch):
    monkeypatch.setenv("MMDIFF_WIDGETS", "1")
    session = st.mos_widget(study, tmp_path / "v.csv", "ann")
    panel = session.widget()
    toggles = [w for box in panel.children if hasattr(box, "children") for w in box.children
               if type(w).__name__ == "ToggleButtons"]
    send = [b for box in panel.children if hasattr(box, "children") for b in box.children
            if type(b).__name__ == "Button"][0]
    assert len(toggles) == 3 and send.disabled and "<video" in panel.children[1].value
    first = session.current
    for t, v in zip(toggles, (5, 4, 2)):
        t.value = v
    assert not send.disabled
    send.click()
    votes, _ = session.log.read()
    assert [(v.clip, v.answers["match"]) for v in votes] == [(first, 2)]
    assert session.done == 1 and send.disabled and all(t.value is None for t in toggles)
    turing = st.turing_widget(study, tmp_path / "v.csv", "ann")
    real = [b for box in turing.widget().children if hasattr(box, "children") for b in box.children
            if getattr(b, "description", "") == "Real"][0]
    real.click()
    assert sum(v.task == "turing" for v in turing.log.read()[0]) == 1


def test_headless_widget_is_one_simulated_call(study, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MMDIFF_WIDGETS", "0")
    session = st.turing_widget(study, tmp_path / "v.csv", "sim-1")
    assert session.current is None and len(session.log.read()[0]) == len(study)
    assert "simulated rater" in capsys.readouterr().out
    assert {v.rater for v in session.log.read()[0]} == {"sim-sim-1"}  # never under the person's own id


def test_set_from_a_folder_and_rebuilds(tmp_path):
    from mmdiff_lite.data import SyntheticClips, write_mp4

    clips = SyntheticClips("tiny", seed=0).batch(range(2))
    for cond in ("real", "mine"):
        for i in range(2):
            write_mp4(tmp_path / "in" / cond / f"{cond}-{i}.mp4", clips["video"][i], clips["audio"][i], 16.0, 4096)
    s = st.study_set_from_folder(tmp_path / "in", tmp_path / "set")
    assert s.conditions == ["real", "mine"] and len(s) == 4
    assert all(cond not in c.file for c in s.clips for cond in ("real", "mine"))
    assert st.study_set_from_folder(tmp_path / "in", tmp_path / "set").clips == s.clips
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        st.study_set_from_folder(tmp_path / "in", tmp_path / "other")


def test_build_from_shipped_model_and_a_free_rebuild(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    s = st.build_study_set(tmp_path / "set", models=("tiny",), n=1, seed=0)
    assert s.conditions == ["real", "tiny"] and s["c" + s.clips[0].id[1:]].scores["f1"] == 1.0
    assert (tmp_path / "set" / s.clips[1].file).stat().st_size > 1000
    import mmdiff_lite.pipeline as pipeline

    monkeypatch.setattr(pipeline, "generate", lambda *a, **k: pytest.fail("a rebuild must not generate"))
    assert st.build_study_set(tmp_path / "set", models=("tiny",), n=1, seed=0).clips == s.clips
    with pytest.raises(FileExistsError, match="other settings"):
        st.build_study_set(tmp_path / "set", models=("tiny",), n=2, seed=0)


def test_rows_that_mix_tasks_or_carry_a_bom(study, tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("\ufeff" + ",".join(st.FIELDS) + "\nann,cr0,real,mos,3,3,3,1,t\nann,cr1,real,turing,,,,0,t\n", encoding="utf-8")
    votes, problems = st.read_votes(f, study)
    assert [v.clip for v in votes] == ["cr1"] and "filled in" in problems[0].why


def test_a_class_folder_reports_shared_ids(study, tmp_path):
    for name in ("a.csv", "b.csv"):
        st.VoteLog(tmp_path / "class" / name, study).add("me", "cr0", "turing", judged_real=True)
    st.VoteLog(tmp_path / "class" / "c.csv", study).add("cy", "cr0", "turing", judged_real=False)
    votes, problems = st.read_vote_folder(tmp_path / "class", study)
    assert sorted(v.rater for v in votes) == ["cy", "me"] and len(problems) == 1 and "also votes in a.csv" in problems[0].why


def test_a_stale_tab_catches_up(study, tmp_path):
    one = st.StudySession(study, tmp_path / "v.csv", "ann", "turing")
    two = st.StudySession(study, tmp_path / "v.csv", "ann", "turing")
    first = one.current
    one.submit(judged_real=True)
    with pytest.raises(st.VoteError, match="already voted"):
        two.submit(judged_real=False)
    assert two.current != first and two.current == one.current


def test_rater_ids_that_would_break_the_file_are_refused(study):
    for bad in ("ann ", "a\u2028b", "a,b", ""):
        with pytest.raises(st.VoteError, match="rater id"):
            check_vote(study, bad, "cr0", "turing", {"judged_real": 1})


def test_wilson_interval_contains_the_share():
    """Rounding at k = 0 once put the low end a hair above 0 = p̂ (a negative error bar in notebook 12)."""
    for n in range(1, 80):
        for k in range(n + 1):
            w = wilson_interval(k, n)
            assert w["low"] <= k / n <= w["high"], (k, n)


def test_simulate_raters_fills_a_class_folder_once(study, tmp_path):
    assert st.simulate_raters(study, tmp_path / "class", 3, prefix="kid", one_file_each=True) == 3 * 2 * len(study)
    assert sorted(p.name for p in (tmp_path / "class").glob("*.csv")) == ["votes-kid-00.csv", "votes-kid-01.csv",
                                                                          "votes-kid-02.csv"]
    assert st.simulate_raters(study, tmp_path / "class", 3, prefix="kid", one_file_each=True) == 0  # resumed: done
    votes, problems = st.read_vote_folder(tmp_path / "class", study)
    assert len(votes) == 3 * 2 * len(study) and not problems
