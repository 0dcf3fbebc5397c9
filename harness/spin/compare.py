#!/usr/bin/env python3
"""Compare SPIN's stored states with plasma-check's unique states for configurations.

usage: compare.py [--ref /tmp/plasma-check-ref] [--gcc-flags "..."] CONFIG_JSON...
Each CONFIG_JSON is a configuration object (inline JSON text or a file name)."""
import json, os, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULTS = dict(installs=1, tabs=1, rows=1, max_mutations=2, drops=0, duplicates=0,
                max_in_flight=2, max_resets=0, users=1, private_rows=0, max_rows=0,
                counter_rows=0, max_auth_changes=0)
DEFINE = dict(installs="INSTALLS", tabs="TABS", rows="ROWS", max_rows="MAXROWS",
              counter_rows="COUNTERROWS", max_mutations="MAXMUT", drops="DROPS",
              duplicates="DUPS", max_in_flight="MAXFLIGHT", max_resets="MAXRESETS")

def defines(cfg):
    c = dict(DEFAULTS, **cfg)
    assert c["users"] == 1 and c["private_rows"] == 0 and c["max_auth_changes"] == 0
    d = [f"-D{DEFINE[k]}={c[k]}" for k in DEFINE]
    init = ",".join(str(i) for i in range(c["installs"]))
    d.append(f"-DTAB_INIT={{{init}}}")
    return d

def spin(cfg, gcc_flags, check=2):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["cp", os.path.join(HERE, "plasma.pml"), tmp], check=True)
        subprocess.run(["spin", "-a", f"-DCHECK={check}"] + defines(cfg) + ["plasma.pml"],
                       cwd=tmp, check=True, capture_output=True)
        subprocess.run(["gcc"] + gcc_flags.split() + ["-w", "-o", "pan", "pan.c"], cwd=tmp,
                       check=True)
        out = subprocess.run(["./pan", "-m100000"], cwd=tmp, check=True,
                             capture_output=True, text=True).stdout
    stored = int(re.search(r"(\d+) states, stored", out).group(1))
    errors = int(re.search(r"errors: (\d+)", out).group(1))
    t = float(re.search(r"elapsed time ([\d.e+]+)", out).group(1))
    if errors or "too small" in out:
        print(out)
    return stored, errors, t, out

def ref(cfg, exe):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cfg, f)
    out = subprocess.run([exe, "check", "--config", f.name, "--strategy", "dfs",
                          "--threads", "1", "--json"], capture_output=True, text=True).stdout
    os.unlink(f.name)
    r = json.loads(out)
    return r["unique_states"], r["seconds"]

def main():
    args = sys.argv[1:]
    exe, flags = "/tmp/plasma-check-ref", "-O2 -DSAFETY -DNOREDUCE -DMEMLIM=8000"
    while args and args[0].startswith("--"):
        if args[0] == "--ref":
            exe = args[1]
        elif args[0] == "--gcc-flags":
            flags = args[1]
        args = args[2:]
    bad = 0
    for a in args:
        cfg = json.load(open(a)) if os.path.exists(a) else json.loads(a)
        ours, rs = ref(cfg, exe)
        stored, errors, t, _ = spin(cfg, flags)
        ok = stored == ours and errors == 0
        bad += not ok
        print(f"{'OK ' if ok else 'BAD'} spin {stored:>10} ({t:.2f}s, errors {errors})  "
              f"rust {ours:>10} ({rs:.2f}s)  {json.dumps(cfg)}", flush=True)
    sys.exit(1 if bad else 0)

main()
