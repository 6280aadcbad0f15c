"""The kit config -> authors' MultimodalUNet flags mapping, and loading their network from a local checkout.

The authors' code is not shipped, so the loader is checked against a stand-in package with their constructor's
signature. The mapping was checked once against their real code (PYTHONPATH of a local checkout): ref-small's
kwargs build their network with 1,708,964 parameters, the count tests/test_model.py holds the kit's to.
"""
from __future__ import annotations

import inspect
import sys
import textwrap

import pytest
import torch

from mmdiff_lite.bench.reference import AuthorsUNet, authors_unet_kwargs, load_authors_unet
from mmdiff_lite.model import model_config

# MultimodalUNet.__init__ of the authors' mm_diffusion/multimodal_unet.py (their argument names, in order)
AUTHORS_ARGS = ["video_size", "audio_size", "model_channels", "video_out_channels", "audio_out_channels",
                "num_res_blocks", "cross_attention_resolutions", "cross_attention_windows", "cross_attention_shift",
                "video_attention_resolutions", "audio_attention_resolutions", "video_type", "audio_type", "dropout",
                "channel_mult", "num_classes", "use_checkpoint", "use_fp16", "num_heads", "num_head_channels",
                "num_heads_upsample", "use_scale_shift_norm", "resblock_updown"]


def _window_at_rate(kw: dict) -> dict:
    return dict(zip(kw["cross_attention_resolutions"], kw["cross_attention_windows"]))


def test_paper_preset_is_the_authors_train_sh():
    kw = authors_unet_kwargs(model_config("paper"))
    assert set(kw) <= set(AUTHORS_ARGS)
    # their multimodal_train.sh: --cross_attention_resolutions 2,4,8 --cross_attention_windows 1,4,8 ...
    assert kw["cross_attention_resolutions"] == [2, 4, 8] and kw["cross_attention_windows"] == [1, 4, 8]
    assert kw["video_attention_resolutions"] == [2, 4, 8] and kw["audio_attention_resolutions"] == [-1]
    assert (kw["video_size"], kw["audio_size"], kw["model_channels"], kw["num_res_blocks"]) == (
        [16, 3, 64, 64], [1, 25600], 128, 2)
    assert kw["cross_attention_shift"] is True and kw["num_head_channels"] == 64 and kw["dropout"] == 0.1


@pytest.mark.parametrize("preset", ["paper", "ref-small"])
def test_every_kit_window_sits_at_its_levels_rate_and_the_middle_switch_is_on(preset):
    cfg = model_config(preset)
    kw = authors_unet_kwargs(cfg)
    at = _window_at_rate(kw)
    reached = {2 ** level for level in range(cfg.num_levels)}
    for level, window in enumerate(cfg.windows):  # the authors' rate ds = 2**level carries the kit's window
        assert at.get(2 ** level) == window
    # rates no level reaches only make the list (1, 4, 8), which turns on the middle block's RS-MMA
    assert kw["cross_attention_windows"] == [1, 4, 8] and cfg.middle_cross_attention
    kit_rates = {2 ** level for level, w in enumerate(cfg.windows) if w is not None}
    assert (set(kw["cross_attention_resolutions"]) - kit_rates).isdisjoint(reached)


def test_shift_and_attention_levels_map_and_differences_are_refused():
    off = authors_unet_kwargs(model_config("ref-small", shift="none"))
    assert off["cross_attention_shift"] is False
    assert authors_unet_kwargs(model_config("ref-small", attention_levels=(2,)))["video_attention_resolutions"] == [4]
    with pytest.raises(ValueError, match="temporal_padding='circular'"):
        authors_unet_kwargs(model_config("tiny"))  # circular padding: not their network
    # recomputing in backward changes no number: the same network, compared at its own work and memory
    assert authors_unet_kwargs(model_config("ref-small", recompute_attention=False)) == authors_unet_kwargs(
        model_config("ref-small"))
    with pytest.raises(ValueError, match="middle-block RS-MMA only with windows"):
        authors_unet_kwargs(model_config("ref-small", windows=(None, 4, 4)))
    with pytest.raises(ValueError, match="cross_attention=False"):
        authors_unet_kwargs(model_config("ref-small", cross_attention=False))


STAND_IN = '''
import torch
from torch import nn

class MultimodalUNet(nn.Module):
    def __init__(self, {args}):
        super().__init__()
        self.kwargs = dict(locals()); self.kwargs.pop("self"); self.kwargs.pop("__class__", None)
        self.scale = nn.Parameter(torch.tensor(2.0))

    def forward(self, video, audio, timesteps, label=None):
        return video * self.scale, audio * self.scale
'''


def _stand_in_checkout(root):
    args = ", ".join(f"{a}=None" for a in AUTHORS_ARGS)
    (root / "mm_diffusion").mkdir()
    (root / "mm_diffusion" / "__init__.py").write_text("")
    (root / "mm_diffusion" / "multimodal_unet.py").write_text(textwrap.dedent(STAND_IN).replace("{args}", args))
    return root


def test_load_authors_unet_imports_from_the_checkout_and_speaks_the_kits_convention(tmp_path):
    _stand_in_checkout(tmp_path)
    cfg = model_config("ref-small")
    path_before = list(sys.path)
    sys.modules.pop("mm_diffusion.multimodal_unet", None), sys.modules.pop("mm_diffusion", None)
    try:
        net = load_authors_unet(tmp_path, cfg)
    finally:
        sys.modules.pop("mm_diffusion.multimodal_unet", None), sys.modules.pop("mm_diffusion", None)
    assert sys.path == path_before  # the checkout is not left on the path
    assert isinstance(net, AuthorsUNet) and net.config is cfg
    assert {k: v for k, v in net.net.kwargs.items() if v is not None} == authors_unet_kwargs(cfg)
    x = {"video": torch.ones(1, *cfg.video_shape), "audio": torch.ones(1, *cfg.audio_shape)}
    out = net(x, torch.zeros(1))
    assert set(out) == {"video", "audio"} and torch.equal(out["video"], 2 * x["video"])
    assert list(inspect.signature(net.net.__init__).parameters) == AUTHORS_ARGS


def test_load_authors_unet_says_which_folder_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="the one that contains mm_diffusion/"):
        load_authors_unet(tmp_path, model_config("ref-small"))


def test_the_comparison_times_both_codes_in_fresh_processes_and_divides_their_medians(tmp_path):
    from mmdiff_lite.bench.measure import authors_comparison

    r = authors_comparison(str(_stand_in_checkout(tmp_path)), "ref-small", batch=1, reps=1, threads=1, rounds=1)
    assert [row["code"] for row in r["rows"]] == ["kit", "authors"]
    kit, theirs = r["median"]["kit"], r["median"]["authors"]
    assert theirs["params"] == 1 and kit["params"] > 1_000_000  # the stand-in has one weight; the kit's network ran
    assert r["speed_up"] == pytest.approx(theirs["step_seconds"] / kit["step_seconds"])
    assert r["memory_ratio"] == pytest.approx(kit["extra_mb"] / max(theirs["extra_mb"], 1.0))
