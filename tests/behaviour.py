"""Digests of what an export and both runtimes give on the tiny preset, for before/after proofs of
behaviour-preserving changes (issue 10's restructuring, issue 24's one house for two runtimes).

`python tests/behaviour.py --artifacts DIR --out tests/data/behaviour_before.json --recorded-at C`
records them for this host's kind of CPU (host_kind), beside the records of other kinds;
`tests/test_behaviour_unchanged.py` compares a fresh export and fresh runs with this kind's record. Each
runtime is compared with its own record (the C++ library links another ONNX Runtime than the
Python wheel, so their float answers differ by rounding; their parity is tests/cpp's job).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
TASKS = ("semantic", "panoptic", "instance")
VOCABULARY = SAMPLES / "vocabulary.json"
# Per-run figures that a correct run changes: wall times and the vocabulary cache's counters.
VOLATILE_SUMMARY_KEYS = ("timings_s", "vocabulary_cache")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_sha(value: object) -> str:
    return _sha(json.dumps(value, sort_keys=True).encode())


def structured_image(folder: Path) -> Path:
    """One generated image beside the bundled photograph (a second size and content)."""
    from frozenseg_export.synthetic_images import structured_images

    path = folder / "structured.png"
    Image.fromarray(structured_images(1, seed=21)[0]).save(path)
    return path


def export_digests(artifacts: Path) -> dict[str, Any]:
    manifest = json.loads((artifacts / "manifest.json").read_text())
    return {
        "graph_sha256": {name: g["sha256"] for name, g in manifest["graphs"].items()},
        "constants_sha256": _json_sha(manifest["constants"]),
        "preset_sha256": _json_sha(manifest["preset"]),
    }


def _file_digest(path: Path) -> Any:
    """A digest of one output file that ignores what a correct run may change (timings; the
    archive's member dates): decoded pixels for PNGs, arrays for .npz, JSON minus volatile keys."""
    if path.suffix == ".png":
        pixels = np.asarray(Image.open(path))
        return {"shape": list(pixels.shape), "sha256": _sha(np.ascontiguousarray(pixels).tobytes())}
    if path.suffix == ".npz":
        with np.load(path) as arrays:
            return {name: [str(arrays[name].dtype), list(arrays[name].shape),
                           _sha(np.ascontiguousarray(arrays[name]).tobytes())]
                    for name in sorted(arrays.files)}
    if path.suffix == ".json":
        value = json.loads(path.read_text())
        if isinstance(value, dict):
            for key in VOLATILE_SUMMARY_KEYS:
                value.pop(key, None)
        return _json_sha(value)
    return _sha(path.read_bytes())


def folder_digests(folder: Path) -> dict[str, Any]:
    return {p.name: _file_digest(p) for p in sorted(folder.iterdir()) if p.is_file()}


def python_run(artifacts: Path, images: list[Path], task: str, out: Path) -> dict[str, Any]:
    from frozenseg_export.cli import main

    code = main(["segment", *map(str, images), "--artifacts", str(artifacts), "--vocabulary",
                 str(VOCABULARY), "--task", task, "--backend", "onnxruntime-cpu", "--no-cache",
                 "--out", str(out)])
    assert code == 0, f"frozenseg-deploy segment exited {code}"
    return folder_digests(out)


def cpp_run(tool: Path, artifacts: Path, images: list[Path], task: str, out: Path) -> dict[str, Any]:
    done = subprocess.run([str(tool), *map(str, images), "--artifacts", str(artifacts),
                           "--vocabulary", str(VOCABULARY), "--task", task,
                           "--backend", "onnxruntime-cpu", "--no-cache", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return folder_digests(out)


def record(artifacts: Path, tool: Path, work: Path) -> dict[str, Any]:
    images = [SAMPLES / "astronaut.jpg", structured_image(work)]
    return {
        "export": export_digests(artifacts),
        "python": {task: python_run(artifacts, images, task, work / "python" / task) for task in TASKS},
        "cpp": {task: cpp_run(tool, artifacts, images, task, work / "cpp" / task) for task in TASKS},
    }


def host_kind() -> str:
    """The kind of CPU whose float kernels an export and both runtimes ran on: ONNX Runtime's MLAS
    and PyTorch's oneDNN take AVX-512 code paths where the CPU has it, and their float32 sums
    round differently there (the same commit's export and files differ in their last bits between
    a Zen 3 and an AVX-512 Xeon). Records are kept per kind."""
    import platform

    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    machine = platform.machine()
    if machine == "x86_64":
        return "x86_64-avx512" if "avx512f" in flags else "x86_64-avx2"
    return machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, required=True, help="an export of the tiny preset")
    parser.add_argument("--tool", type=Path, default=ROOT / "build" / "frozenseg-segment")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--recorded-at", required=True, help="the commit whose behaviour this is")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        digests = record(args.artifacts, args.tool, Path(work))
    records = json.loads(args.out.read_text()) if args.out.is_file() else {}
    records[host_kind()] = {"recorded_at": args.recorded_at, **digests}
    args.out.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
