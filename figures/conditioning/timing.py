"""`cd figures/conditioning && ../../.venv/bin/python timing.py`: clean timing of guidance vs the same sampler unguided (nothing else running), 32 given sounds, 2 threads."""
import json, time, torch
torch.set_num_threads(2)
import mmdiff_lite as mm
model, meta = mm.load_model("tiny")
V, A = mm.reference_pairs(32, "tiny", seed=0)["true"]
out = {}
for label, method, steps, opts in (("DPM-Solver-20", "dpm_solver", 20, {"order": 3}), ("DDIM-50", "ddim", 50, {})):
    for name, given, cond in (("joint", None, None), ("replace", {"audio": A}, mm.Conditioning("replace")),
                              ("guide reconstruction λ=300", {"audio": A}, mm.Conditioning("guide", 300.0, form="reconstruction", t_min=150.0)),
                              ("guide paper λ=3", {"audio": A}, mm.Conditioning("guide", 3.0))):
        mm.generate(model, 2, method=method, steps=2, given=None if given is None else {"audio": A[:2]}, conditioning=cond, progress=False)
        t0 = time.perf_counter()
        mm.generate(model, 32, method=method, steps=steps, given=given, conditioning=cond, progress=False, **opts)
        out[f"{label} {name}"] = (time.perf_counter() - t0) / 32
        print(f"{label:14s} {name:28s} {out[f'{label} {name}']:.3f} s/pair", flush=True)
json.dump(out, open("timing.json", "w"), indent=1)  # run it from figures/conditioning/
