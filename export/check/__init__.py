"""`frozenseg-deploy check`: does a deployed pipeline still give the PyTorch reference's answers?

    inputs.py          everything the user gave, checked before any long work
    reference.py       the PyTorch reference in float32 and float64, cached by content
    deployed.py        the deployed pipeline: the Python runtime or the C++ library
    tensors.py         tensor level: per subgraph output, errors against float32 and float64
    agreement.py       end to end: deployed answers against the reference's, per task
    ground_truth.py    ADE20K label PNGs and COCO panoptic PNG + JSON, read and matched
    thresholds.py      bars per precision (defaults written by quantize), judged on the floor
    pictures.py        overlays with a disagreement map, error histograms, per-image figures
    report.py          check.json, check.md and check.html
    run.py             the order of the work, with progress
    command.py         the `check` subcommand
"""
