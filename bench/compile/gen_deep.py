#!/usr/bin/env python3
"""Writes a deep model for compile-scaling measurements (bench/results/compile-scaling.md).

  gen_deep.py KIND N OUTDIR   KIND: dense (repeat N { dense(4) } dense(1)),
                                     dense1 (repeat N { dense(1) }),
                                     layernorm (repeat N { layernorm } dense(1))
Writes OUTDIR/m.nn and OUTDIR/d.csv (a small regression dataset, 64 rows).
"""
import os
import random
import sys

BODIES = {
    "dense": ("4", "repeat {n} {{\n    dense(4)\n  }}\n  dense(1)"),
    "dense1": ("1", "repeat {n} {{\n    dense(1)\n  }}"),
    "layernorm": ("4", "repeat {n} {{\n    layernorm\n  }}\n  dense(1)"),
}


def main():
    kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    width, body = BODIES[kind]
    width = int(width)
    os.makedirs(out, exist_ok=True)
    rng = random.Random(0)
    names = [f"x{i}" for i in range(width)]
    with open(os.path.join(out, "d.csv"), "w") as f:
        f.write(",".join(names + ["y"]) + "\n")
        for _ in range(64):
            xs = [rng.uniform(-1, 1) for _ in names]
            f.write(",".join(f"{v:.5f}" for v in xs + [sum(xs)]) + "\n")
    features = ", ".join(f'"{n}"' for n in names)
    with open(os.path.join(out, "m.nn"), "w") as f:
        f.write(f"""dataset d {{
  train = csv("d.csv", features = [{features}], target = "y")
  batch = 16
}}

model m(x: f32[{width}]) -> f32[1] {{
  {body.format(n=n)}
}}

train {{
  model = m
  data = d
  loss = mse
  optimizer = sgd(lr = 0.01)
  epochs = 1
}}
""")


if __name__ == "__main__":
    main()
