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
        from frozenseg_runtime import errors, image_io, image_ops, postprocess, preprocess, visualize
        from frozenseg_runtime import vocabulary
        img = np.zeros((40, 60, 3), np.uint8)
        p = preprocess.preprocess(img, resize=(32, 64), clip_mean=(0, 0, 0), clip_std=(1, 1, 1),
                                  sam_mean=(0, 0, 0), sam_std=(1, 1, 1), pad_multiple=32, sam_size=64)
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
