"""Device check: the same sweep with --device cuda and --device cpu, item by item and per set."""
import json, sys

runs = {path: json.load(open(path)) for path in sys.argv[1:]}
first, *others = runs
items = lambda d: {b["name"]: b["extra_info"] for b in d["benchmarks"]}
base = items(runs[first])
print("runs:", {p: len(items(d)) for p, d in runs.items()})
for path in others:
    other = items(runs[path])
    print(f"== {first} vs {path}")
    for name in sorted(base):
        a, b = base[name], other.get(name)
        if b is None:
            print(name, "missing"); continue
        diffs = {k: abs(a["metrics"][k] - b["metrics"][k]) for k in a["metrics"] if a["metrics"][k] is not None and b["metrics"].get(k) is not None}
        print(f"{name}: bytes {a['bytes']} / {b['bytes']}, same bitstream {a['bitstream_sha256'] == b['bitstream_sha256']}, "
              f"same image {a['decoded_sha256'] == b['decoded_sha256']}, max metric diffs " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    sets = lambda d: {(p["codec"], str(p["quality"])): p for p in d["codecbench"].get("sets", {}).get("points", [])}
    for key, p in sorted(sets(runs[first]).items()):
        q = sets(runs[path]).get(key, {})
        print("set", key, {k: (p.get(k), q.get(k)) for k in ("fid", "kid", "set_patches")})
for path, d in runs.items():
    for b in d["benchmarks"][:2] + d["benchmarks"][-2:]:
        e = b["extra_info"]
        print(path, b["name"], "timing ms", {s: round(1000 * t["wall_median_s"], 2) for s, t in e["timing"].items()}, "peak", e["peak_memory"])
