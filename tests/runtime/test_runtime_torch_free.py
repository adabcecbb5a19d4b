"""The runtime package imports and runs its numpy code with torch made unimportable."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_runtime_imports_without_torch():
    code = textwrap.dedent(
        """
        import sys
        class _Block:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked in this test")
        sys.meta_path.insert(0, _Block())
        import numpy as np
        import frozenseg_runtime
        from frozenseg_runtime import errors
        from frozenseg_runtime.image import loading as image_io
        from frozenseg_runtime.image import ops as image_ops
        from frozenseg_runtime.output import postprocess
        from frozenseg_runtime.image import preprocess
        from frozenseg_runtime.output import visualize
        from frozenseg_runtime.text import vocabulary
        from frozenseg_runtime.backends.tensorrt import cuda_runtime
        from frozenseg_runtime.backends.tensorrt import arena as trt_arena
        from frozenseg_runtime.backends.tensorrt import runner as trt_backend
        from frozenseg_runtime.backends.tensorrt import engine_index as trt_engine_index  # noqa: F401
        from frozenseg_runtime.backends.tensorrt import engine_metadata as trt_engine_metadata
        from frozenseg_runtime.backends.tensorrt import env as trt_env
        from frozenseg_runtime.backends import profiles  # noqa: F401
        from frozenseg_runtime.backends import cpu_features, openvino_runner  # noqa: F401
        img = np.zeros((40, 60, 3), np.uint8)
        constants = preprocess.PreprocessConstants((0, 0, 0), (1, 1, 1), (0, 0, 0), (1, 1, 1),
                                                   pad_multiple=32, sam_size=64, resize_short=32,
                                                   resize_max=64)
        p = preprocess.preprocess(img, constants, (32, 64))
        assert p.clip_input.shape == (1, 3, 32, 64), p.clip_input.shape
        vocabulary.parse_vocabulary("cat,dog")
        try:
            import torch  # noqa: F401
        except ImportError:
            pass
        else:
            raise SystemExit("torch was importable")
        assert not any(m == "torch" or m.startswith("torch.") for m in sys.modules)
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_segmenter_runs_without_torch(tiny_artifacts, tmp_path):
    """Export artifacts, then segment in a process where torch (and regex) cannot be imported."""
    out, _ = tiny_artifacts
    code = textwrap.dedent(
        f"""
        import sys
        class _Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "regex", "open_clip", "frozenseg_reference"):
                    raise ImportError(name + " is blocked in this test")
        sys.meta_path.insert(0, _Block())
        import numpy as np
        from frozenseg_runtime.segmenter import Segmenter
        from frozenseg_export.cli import main
        seg = Segmenter.from_artifacts({str(out)!r}, backend="onnxruntime-cpu", cache_dir="")
        seg.set_vocabulary("person,sky,tree")
        r = seg.segment(np.full((64, 96, 3), 127, np.uint8), task="panoptic", resize=None)
        assert r.panoptic_seg.shape == (64, 96)
        from PIL import Image
        Image.new("RGB", (96, 64), (30, 60, 90)).save({str(tmp_path / "a.png")!r})
        code = main(["segment", {str(tmp_path / "a.png")!r}, "--artifacts", {str(out)!r},
                     "--vocabulary", "person,sky", "--out", {str(tmp_path / "out")!r},
                     "--no-cache", "--resize", "none"])
        assert code == 0
        assert not any(m.split(".")[0] == "torch" for m in sys.modules)
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
    assert (tmp_path / "out" / "a_labels.png").is_file()
