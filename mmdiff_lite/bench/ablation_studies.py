"""The ablation studies of ``mmdiff-lite ablate``: the paper's Tables 3 and 4, coupling, and the kit's fix.

Every variant is the study's base recipe with a few model options changed (:data:`STUDIES`, the one list); the
tests diff each variant's full configuration against its study's reference and check that only those options
differ. The base recipe (:data:`BASE_RECIPES`) is the ``tiny`` training preset as it is: the fast recipe of the
time-to-sync issue (README, "Time to sync"); on a GPU the same studies run at the ``small`` or ``paper`` preset with
their own recipes.

* **windows** (Table 3). The paper puts RS-MMA at levels 1–3 of a 4-level U-Net with windows (1,1,1), (4,4,4),
  (8,8,8) and (1,4,8). ``tiny`` has RS-MMA at levels 1–2 of a 3-level U-Net (the middle block always attends to
  all frames), so each paper tuple maps onto its two deepest levels (:func:`preset_windows`): (1,1), (4,4), (8,8)
  and (4,8). The preset's own windows are the reference row (tiny: (1,4); paper: (1,4,8)).
* **shift** (Table 4). Random shift R against none (R = 0), at training and sampling time alike, crossed with the
  temporal padding of the 1-D frame convolutions: circular (the tiny preset's) or zeros (the authors'). With
  circular padding a network cannot tell absolute frame position from the clip's borders, which the random-shift
  finding of notebook 07 may depend on: the zeros rows test that confound. Evaluated at several training steps.
* **coupling**. The coupled model against the same network without cross attention.
* **fix** (the kit's addition). The paper's random shift with time-aligned rotary position on RS-MMA's queries and
  keys (``cross_rotary``), and with a learned map of the attention mass per relative frame offset
  (``cross_offsets``): do they recover R = 0's frame-exact sync while keeping the shift?

Taught in: notebooks/10_ablations.ipynb
"""
from __future__ import annotations

from typing import NamedTuple

__all__ = ["Variant", "STUDIES", "BASE_RECIPES", "preset_windows", "study_names", "variants_of", "PAPER_TABLES"]

#: The recipe every variant starts from, per model preset: TrainConfig fields over that training preset (none: each
#: preset's recipe as it is; tiny's is the fast recipe of the time-to-sync work).
BASE_RECIPES = {"tiny": {}, "small": {}, "ref-small": {}, "paper": {}}


def preset_windows(paper: tuple, levels: int) -> tuple:
    """The paper's window tuple (for RS-MMA at levels 1-3 of its 4-level U-Net) on a U-Net of ``levels`` levels:
    no RS-MMA at level 0, and the paper's windows of its deepest ``levels - 1`` levels ((1,4,8) -> (4,8) on tiny)."""
    if levels - 1 > len(paper):
        raise ValueError(f"a {levels}-level U-Net has more RS-MMA levels than the paper's tuple {paper}")
    return (None, *paper[len(paper) - (levels - 1):])


class Variant(NamedTuple):
    """One row of a study: its ``name``, the model options it changes (``model``), and whether it is the study's
    reference (``reference``) that the others are compared with."""
    name: str
    model: dict
    reference: bool = False
    label: str = ""


#: study -> its variants (the first ``reference=True`` one is the comparison row).
STUDIES: dict[str, tuple[Variant, ...]] = {
    "shift": (
        Variant("r0-circular", {"shift": "none", "temporal_padding": "circular"}, reference=True,
                label="R = 0, circular padding (tiny)"),
        Variant("random-circular", {"shift": "random", "temporal_padding": "circular"}, label="random R, circular"),
        Variant("random-zeros", {"shift": "random", "temporal_padding": "zeros"}, label="random R, zeros (authors)"),
        Variant("r0-zeros", {"shift": "none", "temporal_padding": "zeros"}, label="R = 0, zeros"),
    ),
    "coupling": (
        Variant("coupled", {"cross_attention": True}, reference=True, label="coupled (RS-MMA)"),
        Variant("nocross", {"cross_attention": False}, label="no cross attention"),
    ),
    "fix": (
        Variant("fix-r0", {"shift": "none", "cross_rotary": False, "cross_offsets": False}, reference=True,
                label="R = 0 (the target)"),
        Variant("fix-random", {"shift": "random", "cross_rotary": False, "cross_offsets": False},
                label="random R (the paper)"),
        Variant("fix-rotary", {"shift": "random", "cross_rotary": True, "cross_offsets": False},
                label="random R + time-aligned rotary"),
        Variant("fix-offsets", {"shift": "random", "cross_rotary": False, "cross_offsets": True},
                label="random R + learned offset readout"),
    ),
    "windows": (  # the paper's tuples for its RS-MMA levels 1-3; preset_windows maps them onto a preset's levels
        Variant("w1-1", {"windows": (1, 1, 1)}, label="(1,1,1)"),
        Variant("w4-4", {"windows": (4, 4, 4)}, label="(4,4,4)"),
        Variant("w8-8", {"windows": (8, 8, 8)}, label="(8,8,8)"),
        Variant("w4-8", {"windows": (1, 4, 8)}, label="(1,4,8)"),
        Variant("w-own", {}, reference=True, label="the preset's own windows"),
    ),
}

#: The paper's numbers for the studies that it reports (reference §10; Table 4 is described, not quoted).
PAPER_TABLES = {
    "windows": {"w1-1": {"FVD": 374.18, "KVD": 22.26, "FAD": 9.81}, "w4-4": {"FVD": 361.65, "KVD": 21.64, "FAD": 9.65},
                "w8-8": {"FVD": 350.60, "KVD": 21.47, "FAD": 9.50}, "w4-8": {"FVD": 303.19, "KVD": 17.26, "FAD": 10.20}},
    "shift": "Table 4: random shift helps, mainly the audio (unverified; no numbers in the kit's reference)",
}


def study_names() -> list[str]:
    return list(STUDIES)


def variants_of(study: str) -> tuple[Variant, ...]:
    """The variants of ``study`` (``all``: every study's, each variant once)."""
    if study == "all":
        seen, out = set(), []
        for vs in STUDIES.values():
            for v in vs:
                if v.name not in seen:
                    seen.add(v.name)
                    out.append(v)
        return tuple(out)
    if study not in STUDIES:
        raise ValueError(f"unknown study {study!r}: use one of {', '.join(STUDIES)} or all")
    return STUDIES[study]
