"""bench/cgdump.py: reading the counts that bench/micro/cgmark.c's dumps leave in a callgrind run."""
from pathlib import Path


def read_dumps(folder, prefix):
    """{(key, n): instructions} of the dumps labelled PREFIX + "KEY|n=N" in folder/cg.out*."""
    trigger = "desc: Trigger: Client Request: " + prefix
    counts = {}
    for f in Path(folder).glob("cg.out*"):
        label = total = None
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith(trigger):
                label = line[len(trigger):]
            elif line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
        if label and total is not None:
            key, n = label.rsplit("|n=", 1)
            counts[(key, int(n))] = total
    return counts


def per_iteration(counts, keys, n1, n2):
    """The cost of one iteration of each key measured at n1 and n2 iterations (start-up cancels)."""
    return {k: (counts[(k, n2)] - counts[(k, n1)]) / (n2 - n1) for k in keys if (k, n2) in counts and (k, n1) in counts}
