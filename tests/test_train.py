"""Training: exact resume, process-count independence (DDP on gloo), checkpoints, the loss weighting."""
import json
import os
import socket

import pytest
import torch
import torch.multiprocessing as tmp_mp

import mmdiff_lite as mm
from mmdiff_lite.cli import main
from mmdiff_lite.train import (Trainer, derive_seed, draw_t_and_noise, load_weights, min_snr_weight, read_header,
                               save_weights, snapshot_path, snapshot_steps, train_config)

SMALL = dict(batch_size=4, log_every=1, ckpt_every=100, warmup_steps=2)


def _weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_resume_is_bit_identical(tmp_path):
    cfg = train_config("tiny", steps=4, **SMALL)
    straight = Trainer(cfg, tmp_path / "a", progress=False)
    straight.run()
    first = Trainer(train_config("tiny", steps=2, **SMALL), tmp_path / "b", progress=False)
    first.run()
    resumed = Trainer(cfg, tmp_path / "b", resume=True, progress=False)
    assert resumed.step == 2
    resumed.run()
    for name, a, b in ((n, _weights(straight.model), _weights(resumed.model)) for n in ("model",)):
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), f"{name} weights differ after resuming"
    ea, eb = _weights(straight.ema.model), _weights(resumed.ema.model)
    assert all(torch.equal(ea[k], eb[k]) for k in ea)
    log = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4]


def test_ema_snapshots_every_nth_step(tmp_path):
    """snapshot_every=2 over 4 steps keeps the EMA of steps 2 and 4 (a resumable option), each with the
    header ema.safetensors has at that step."""
    first = Trainer(train_config("tiny", steps=2, snapshot_every=2, **SMALL), tmp_path, progress=False)
    first.run()
    ema_at_2 = _weights(first.ema.model)
    Trainer(train_config("tiny", steps=4, snapshot_every=2, **SMALL), tmp_path, resume=True, progress=False).run()
    assert snapshot_steps(tmp_path) == [2, 4]
    s2, h2 = load_weights(snapshot_path(tmp_path, 2))
    assert h2["step"] == 2 and all(torch.equal(s2[k], ema_at_2[k]) for k in ema_at_2)
    s4, h4 = load_weights(snapshot_path(tmp_path, 4))
    ema, header = load_weights(tmp_path / "ema.safetensors")
    assert h4 == header and all(torch.equal(s4[k], ema[k]) for k in ema)
    assert any(not torch.equal(s2[k], s4[k]) for k in s4)
    with pytest.raises(ValueError, match="snapshot_every"):
        train_config("tiny", snapshot_every=-1)


def test_resume_refuses_changed_options(tmp_path):
    Trainer(train_config("tiny", steps=1, **SMALL), tmp_path, progress=False).run()
    with pytest.raises(ValueError, match="lr"):
        Trainer(train_config("tiny", steps=2, **{**SMALL, "lr": 1e-3}), tmp_path, resume=True, progress=False)


def test_learning_rate_schedule_closed_form(tmp_path):
    """Warm-up, then a cosine decay to lr_final * lr at the absolute step lr_decay_steps, constant after it."""
    lr, w, h, f = 2e-3, 10, 110, 0.1
    tr = Trainer(train_config("tiny", steps=0, lr=lr, warmup_steps=w, lr_decay_steps=h, lr_final=f), tmp_path,
                 progress=False)
    assert tr.lr_at(0) == pytest.approx(lr / w) and tr.lr_at(w - 1) == pytest.approx(lr)
    assert tr.lr_at(w) == pytest.approx(lr)
    assert tr.lr_at((w + h) // 2) == pytest.approx(lr * (1 + f) / 2)  # half way down the cosine
    assert tr.lr_at(w + (h - w) // 4) == pytest.approx(lr * (f + (1 - f) * (1 + 2 ** -0.5) / 2))
    assert tr.lr_at(h) == pytest.approx(f * lr) and tr.lr_at(10 * h) == pytest.approx(f * lr)
    lrs = [tr.lr_at(s) for s in range(w, 2 * h)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    flat = Trainer(train_config("tiny", steps=0, lr=lr, warmup_steps=w, lr_decay_steps=0), tmp_path / "flat",
                   progress=False)
    assert flat.lr_at(10 * h) == lr
    with pytest.raises(ValueError, match="lr_final"):
        train_config("tiny", lr_final=1.5)
    with pytest.raises(ValueError, match="past the warm-up"):  # a horizon inside the warm-up is refused, not ignored
        train_config("tiny", warmup_steps=100, lr_decay_steps=50)


def test_resume_accepts_a_checkpoint_that_predates_an_option(tmp_path):
    """A run saved before an option existed resumes if the option keeps its default (then: the only behaviour),
    and is refused if it does not."""
    from safetensors.torch import load_file, save_file

    old = dict(SMALL, lr_decay_steps=0)  # the behaviour of the kit before lr_decay_steps existed
    Trainer(train_config("tiny", steps=1, **old), tmp_path, progress=False).run()
    path = tmp_path / "last.safetensors"
    header = read_header(path)
    for key in ("lr_decay_steps", "lr_final"):
        del header["train_config"][key]
    save_file(load_file(str(path)), str(path), metadata={"meta": json.dumps(header)})
    assert Trainer(train_config("tiny", steps=2, **old), tmp_path, resume=True, progress=False).step == 1
    stored = header["train_config"]  # the missing options count as their defaults, the kit's behaviour then
    assert mm.train.recipe_changes(stored, train_config("tiny", steps=2, **old)) == {}
    assert mm.train.recipe_changes(stored, train_config("tiny", **{**old, "lr_decay_steps": 50})) == {"lr_decay_steps": 0}
    with pytest.raises(ValueError, match="lr_decay_steps"):
        Trainer(train_config("tiny", steps=2, **{**old, "lr_decay_steps": 50}), tmp_path, resume=True, progress=False)


def _ddp_worker(rank, port, out, steps):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    tr = Trainer(train_config("tiny", steps=steps, **SMALL), out, progress=False)
    tr.run()
    torch.distributed.destroy_process_group()


def test_two_processes_equal_one_process_with_the_same_global_batch(tmp_path, relative_gap):
    steps = 2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp_mp.spawn(_ddp_worker, args=(port, str(tmp_path / "ddp"), steps), nprocs=2, join=True)
    single = Trainer(train_config("tiny", steps=steps, **SMALL), tmp_path / "one", progress=False)
    single.run()
    ddp, _ = load_weights(tmp_path / "ddp" / "last.safetensors")  # EMA weights of the 2-process run
    one = _weights(single.ema.model)
    init = _weights(Trainer(train_config("tiny", steps=steps, **SMALL), tmp_path / "init", progress=False).model)
    # equal up to float summation order: a bug (other clips, other t, wrong averaging) moves the weights by as much
    # as training does
    assert relative_gap(one, ddp, init) < 1e-2
    state = load_weights(tmp_path / "one" / "last.safetensors")[0]
    assert all(torch.equal(state[k], one[k]) for k in one)
    assert read_header(tmp_path / "ddp" / "last.safetensors")["world_size"] == 2


def test_random_draws_depend_only_on_seed_and_sample_index():
    shapes = {"video": (2, 3, 4, 4), "audio": (1, 32)}
    t_all, n_all = draw_t_and_noise(5, range(0, 4), shapes, 1000)
    t_part, n_part = draw_t_and_noise(5, [2, 3], shapes, 1000)
    assert torch.equal(t_all[2:], t_part) and all(torch.equal(n_all[k][2:], n_part[k]) for k in shapes)
    assert derive_seed(0, "a", 1) == derive_seed(0, "a", 1) != derive_seed(0, "a", 2)


def test_min_snr_weight_closed_form():
    snr = torch.tensor([0.1, 1.0, 5.0, 50.0, 1e4])
    w = min_snr_weight(snr, 5.0)
    torch.testing.assert_close(w, torch.tensor([1.0, 1.0, 1.0, 0.1, 5e-4]))


def test_weights_file_round_trip_and_errors(tmp_path):
    model = mm.build_model("tiny")
    meta = {"model_config": model.config.to_dict()}
    save_weights(tmp_path / "w.safetensors", model.state_dict(), meta, dtype=torch.float16)
    state, header = load_weights(tmp_path / "w.safetensors")
    assert header["kind"] == "weights" and header["model_config"]["name"] == "tiny"
    for k, v in model.state_dict().items():
        if v.is_floating_point():
            torch.testing.assert_close(state[k], v.half().float())
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        read_header(tmp_path / "bad.safetensors")
    with pytest.raises(FileNotFoundError):
        read_header(tmp_path / "missing.safetensors")


def test_train_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path), "--steps", "1", "--model", "no_such_option=3"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no_such_option" in err
    assert main(["train", "--preset", "huge", "--out", str(tmp_path)]) == 2
    assert "use one of" in capsys.readouterr().err


def test_min_snr_weights_the_noise_error_alike_for_eps_and_v():
    """lambda_v ||v_hat - v||^2 == lambda_eps ||eps_hat - eps||^2 when eps_hat = eps_from_v(v_hat)."""
    from mmdiff_lite.train.loop import min_snr_weight

    s = mm.linear_schedule()
    g = torch.Generator().manual_seed(0)
    t = torch.tensor([1, 100, 400, 900, 999])
    x0 = {"audio": torch.rand(5, 1, 64, generator=g) * 2 - 1}
    xt, eps = mm.q_sample(x0, t, s, generator=g)
    v_hat = {"audio": mm.v_target(x0, eps, t, s)["audio"] + 0.1 * torch.randn(5, 1, 64, generator=g)}
    eps_hat = mm.eps_from_v(xt, v_hat, t, s)
    v = mm.v_target(x0, eps, t, s)
    snr = s.snr[t]
    lv = min_snr_weight(snr, 5.0, "v").float() * ((v_hat["audio"] - v["audio"]) ** 2).flatten(1).mean(1)
    le = min_snr_weight(snr, 5.0, "eps").float() * ((eps_hat["audio"] - eps["audio"]) ** 2).flatten(1).mean(1)
    torch.testing.assert_close(lv, le, rtol=2e-3, atol=1e-7)


@pytest.mark.parametrize("warmup", [1.0, 10.0, 40.0])
def test_ema_decay_ramp_and_the_weight_it_leaves_on_the_start(warmup):
    """d_n = min(decay, (1 + n) / (warmup + n)); the initial weights keep the product of the d_n (closed form)."""
    from mmdiff_lite.train.ema import EMA

    net = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(net.weight)
    ema = EMA(net, decay=0.99, warmup=warmup)
    with torch.no_grad():
        net.weight.fill_(1.0)
    kept = 1.0
    for n in range(60):
        d = ema.current_decay()
        assert d == pytest.approx(min(0.99, (1 + n) / (warmup + n)))
        ema.update(net)
        kept *= d
    assert ema.model.weight.item() == pytest.approx(1.0 - kept, abs=1e-6)
    assert (warmup == 1.0) == (kept == pytest.approx(0.99 ** 60))  # 1: no ramp, the plain decay from the start


def test_ema_warmup_is_checked():
    from mmdiff_lite.train.ema import EMA

    net = torch.nn.Linear(1, 1)
    with pytest.raises(ValueError, match="EMA warmup must be a number >= 1"):
        EMA(net, warmup=True)  # the old switch: refused rather than read as 1 (no ramp)
    with pytest.raises(ValueError, match="ema_warmup must be >= 1"):
        train_config("tiny", ema_warmup=0.5)
    assert train_config("tiny", ema_warmup="40").ema_warmup == 40.0  # typed, as every option
