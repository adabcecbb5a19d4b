"""Is the decoder's deformable-attention Gather slow code or memory?  OpenVINO's CPU plugin runs
`Gather` of 32-float rows (the full preset's head width) as `ref_any`, and has a JIT kernel only
for rows of up to 16 floats. This times the same table gathered both ways, on one process:

    .venv/bin/python benchmarks/openvino_gather_rows.py [--rows 105000] [--indices 420000]
        [--threads 2] [--repeats 20]

    width 32   [rows, 32] table, [1, indices] int64 indices (what the decoder's graph has)
    width 16   the same table as [2 * rows, 16], twice the indices (each row's two halves)

Stop 34, 2-core Xeon (AVX-512), two runs: 23.3-23.7 ms (ref_any) against 55.4-69.9 ms
(jit_avx512): the reference kernel is not what holds the decoder back, the memory traffic is."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper


def gather_model(rows: int, width: int, indices: int) -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "index"], ["rows"], axis=0)], "gather_rows",
        [helper.make_tensor_value_info("table", TensorProto.FLOAT, [rows, width]),
         helper.make_tensor_value_info("index", TensorProto.INT64, [1, indices])],
        [helper.make_tensor_value_info("rows", TensorProto.FLOAT, [1, indices, width])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def time_gather(rows: int, width: int, indices: int, threads: int, repeats: int) -> tuple[float, set[str]]:
    """Seconds per call after one warm-up, and the kernels OpenVINO chose for the Gather."""
    import openvino as ov

    core = ov.Core()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gather.onnx"
        onnx.save(gather_model(rows, width, indices), path)
        compiled = core.compile_model(core.read_model(path), "CPU",
                                      {"INFERENCE_NUM_THREADS": str(threads), "PERF_COUNT": "YES"})
    request = compiled.create_infer_request()
    rng = np.random.default_rng(0)
    feeds = {"table": rng.standard_normal((rows, width)).astype(np.float32),
             "index": rng.integers(0, rows, (1, indices))}
    request.infer(feeds)
    start = time.perf_counter()
    for _ in range(repeats):
        request.infer(feeds)
    seconds = (time.perf_counter() - start) / repeats
    return seconds, {p.exec_type for p in request.get_profiling_info() if p.node_type == "Gather"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=105000)
    parser.add_argument("--indices", type=int, default=420000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    for width, factor in ((32, 1), (16, 2)):
        seconds, kernels = time_gather(args.rows * factor, width, args.indices * factor, args.threads, args.repeats)
        print(f"width {width}: {args.rows * factor} rows, {args.indices * factor} indices: "
              f"{seconds * 1000:.1f} ms per call ({', '.join(sorted(kernels))})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
