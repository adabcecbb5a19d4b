"""`frozenseg-deploy bench`: what the pipeline buys, measured side by side in one run.

    contenders.py   what is timed: the PyTorch reference, the Python runtime, the C++ library
    timing.py       latency statistics and the A/B alternation with the baseline
    memory.py       peak host and device memory over a contender's life
    flops.py        FLOPs of each subgraph, counted by torch's FlopCounterMode
    peaks.py        peak FLOP/s of common GPUs and Jetson modules, with sources
    cpu_peak.py     the CPU's GEMM peak in FP32, BF16 and INT8: derived, and probed in the run
    isolated.py     the baseline in a process of its own, its calls still alternating
    environment.py  the machine and the versions a figure belongs to
    run.py          the measurement plan, with progress
    report.py       JSON (checked against schema.json) and the markdown table
    charts.py       the PNG charts
    command.py      the `bench` subcommand

Ratios are computed inside one run against the baseline measured in that run (PyTorch eager
FP32), its calls alternating with the contender's, never against a figure from another day.
"""
