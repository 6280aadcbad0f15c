"""The GPU path: autocast with gradient scaling, pinned memory, SDPA, torch.compile and nccl.  Skipped without CUDA;
``make gpu-check`` runs this file on a lent GPU (see DEVELOPERS.md)."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.train import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
CUDA = torch.device("cuda")


@pytest.mark.parametrize("amp", ["bf16", "fp16", "off"])
def test_training_steps_on_cuda_are_finite_under_each_autocast(tmp_path, amp):
    if amp == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("no bf16 on this GPU")
    trainer = Trainer(mm.train_config("tiny", steps=4, batch_size=4, log_every=1, amp=amp), tmp_path / "r", progress=False)
    assert trainer.device.type == "cuda" and next(trainer.model.parameters()).is_cuda
    trainer.run()
    log = [json.loads(line) for line in (tmp_path / "r" / "log.jsonl").read_text().splitlines()]
    assert len(log) == 4 and all(torch.isfinite(torch.tensor(r["loss"])) for r in log)
    assert (trainer.scaler is not None) == (amp == "fp16")  # gradient scaling only where fp16 needs it


def test_the_network_computes_the_same_on_cuda_and_cpu():
    torch.manual_seed(0)
    model = mm.model.perturb_zero_layers(mm.build_model("tiny"), generator=torch.Generator().manual_seed(1)).eval()
    pair = mm.model.example_pair(model.config, batch=2, seed=0)
    t = torch.tensor([10.0, 700.0])
    with torch.no_grad():
        cpu = model(pair, t)
        gpu = model.to(CUDA)({k: v.to(CUDA) for k, v in pair.items()}, t.to(CUDA))
    for k in cpu:
        assert torch.allclose(cpu[k], gpu[k].cpu(), atol=2e-3, rtol=1e-3), k


def test_rsmma_dense_and_windowed_agree_on_cuda():
    g = torch.Generator().manual_seed(0)
    video, audio = torch.randn(2, 64, 16, 4, 4, generator=g), torch.randn(2, 64, 16 * 8, generator=g)
    blocks = [mm.model.perturb_zero_layers(mm.RSMMA(64, 16, 4, shift=3, impl=impl), generator=torch.Generator().manual_seed(1))
              for impl in ("dense", "windowed")]
    with torch.no_grad():
        outs = [b.to(CUDA)(video.to(CUDA), audio.to(CUDA)) for b in blocks]
    for a, b in zip(*outs):
        assert torch.allclose(a, b, atol=1e-4)


def test_compiled_training_matches_eager(tmp_path):
    losses = {}
    for compiled in (False, True):
        out = tmp_path / f"c{compiled}"
        Trainer(mm.train_config("tiny", steps=3, batch_size=4, log_every=1, amp="off", compile=compiled), out,
                progress=False).run()
        losses[compiled] = [json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert losses[True] == pytest.approx(losses[False], rel=2e-2)


def test_generation_on_cuda_gives_clips_in_range():
    model = mm.build_model("tiny").to(CUDA)
    pairs = mm.generate(model, 2, method="dpm_solver", steps=6, seed=0, progress=False)
    assert pairs["video"].shape == (2, *model.config.video_shape)
    assert all(torch.isfinite(v).all() and v.abs().max() <= 1 for v in pairs.values())


def test_nccl_all_reduce_in_one_process(tmp_path):
    script = tmp_path / "nccl.py"
    script.write_text(textwrap.dedent("""
        import torch, torch.distributed as dist
        dist.init_process_group("nccl", rank=0, world_size=1)
        x = torch.ones(4, device=torch.device("cuda", 0))
        dist.all_reduce(x)
        assert x.sum().item() == 4.0
        dist.destroy_process_group()
        print("nccl ok")
    """))
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29533"}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and "nccl ok" in out.stdout, out.stderr[-2000:]
