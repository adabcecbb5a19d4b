"""The ctypes binding (frozenseg_export.cpp_library) is the C header's, read from the header.

The one statement of the C ABI is runtime/cpp/include/frozenseg/frozenseg.h. The binding's
structures, task and pixel-format values and status table are checked against what this test
parses out of that header, so a field added, moved or retyped there fails here instead of
corrupting memory at a call.
"""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

import pytest

from frozenseg_export import cpp_library

HEADER = Path(__file__).resolve().parents[2] / "runtime" / "cpp" / "include" / "frozenseg" / "frozenseg.h"

# C types of the header -> the ctypes type the binding must use.
_C_TYPES = {
    "const char*": ctypes.c_char_p, "int": ctypes.c_int, "int32_t": ctypes.c_int32,
    "int64_t": ctypes.c_int64, "float": ctypes.c_float, "const uint8_t*": ctypes.POINTER(ctypes.c_uint8),
    "fs_pixel_format": ctypes.c_int,
}


def _source() -> str:
    return re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)


def struct_fields(name: str) -> list[tuple[str, object]]:
    """The fields of `typedef struct <name> { ... } <name>;`, in order, as (name, ctypes type)."""
    match = re.search(r"typedef struct %s \{(.*?)\} %s;" % (name, name), _source(), flags=re.S)
    assert match, f"no struct {name} in {HEADER}"
    fields = []
    for declaration in filter(None, (d.strip() for d in match.group(1).split(";"))):
        words = re.match(r"(.*?)(\w+(?:\s*,\s*\w+)*)$", declaration, flags=re.S)
        assert words, declaration
        c_type = re.sub(r"\s*\*", "*", " ".join(words.group(1).split()))
        for field in re.split(r"\s*,\s*", words.group(2)):
            fields.append((field, _C_TYPES[c_type]))
    return fields


def enum_values(prefix: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r"\b(%s\w+)\s*=\s*(\d+)" % prefix, _source())}


def _ctypes_name(t: object) -> str:
    return getattr(t, "__name__", repr(t))


@pytest.mark.parametrize("binding, c_name", [
    (cpp_library._Options, "fs_segmenter_options"),
    (cpp_library._Image, "fs_image"),
    (cpp_library._SegmentInfo, "fs_segment_info"),
])
def test_structures_are_the_headers(binding, c_name):
    want = [(field, _ctypes_name(t)) for field, t in struct_fields(c_name)]
    got = [(field, _ctypes_name(t)) for field, t in binding._fields_]
    assert got == want


def test_enums_and_statuses_are_the_headers():
    tasks = enum_values("FS_TASK_")
    assert cpp_library.TASKS == {name[len("FS_TASK_"):].lower(): value for name, value in tasks.items()}
    assert cpp_library.PIXEL_RGB == enum_values("FS_PIXEL_")["FS_PIXEL_RGB"]
    statuses = {value for name, value in enum_values("FS_").items() if name != "FS_OK" and not
                name.startswith(("FS_TASK_", "FS_PIXEL_", "FS_ENCODERS_"))}
    assert set(cpp_library.STATUS_EXIT_CODES) == statuses


def test_a_changed_header_is_caught(monkeypatch, tmp_path):
    """The parse reads the header, not a copy: a field added there no longer matches."""
    changed = tmp_path / "frozenseg.h"
    changed.write_text(HEADER.read_text().replace("    int encoder_schedule;", "    int encoder_schedule;\n    int extra;"))
    monkeypatch.setitem(globals(), "HEADER", changed)
    assert [f for f, _ in struct_fields("fs_segmenter_options")][-1] == "extra"
    assert len(struct_fields("fs_segmenter_options")) == len(cpp_library._Options._fields_) + 1


def test_statuses_exit_with_their_kind():
    assert cpp_library.CppLibraryError(2, "bad vocabulary").exit_code == 2
    assert cpp_library.CppLibraryError(3, "bad manifest").exit_code == 3
    assert cpp_library.CppLibraryError(4, "no backend").exit_code == 4
    assert cpp_library.CppLibraryError(5, "run failed").exit_code == 4  # never 5, the check-failure code
    assert cpp_library.CppLibraryError(7, "bug").exit_code == 1
    assert str(cpp_library.CppLibraryError(3, "bad", "the C++ library x refused: ")) == \
        "the C++ library x refused: status 3: bad"


def test_backends_are_the_librarys(tmp_path):
    """`check --runtime cpp` takes the backend names from the library itself (fs_backends): "auto"
    first, then the backends this build has (openvino-cpu in README's build, which fetches
    OpenVINO's SDK); a backend the build lacks is refused naming the library's list, before any
    graph loads."""
    import os

    from frozenseg_export.check.deployed import cpp_backend
    from frozenseg_runtime.backends.factory import BACKENDS
    from frozenseg_runtime.errors import UsageError

    library = Path(os.environ.get("FS_CPP_BUILD", HEADER.parents[4] / "build")) / "libfrozenseg.so"
    if not library.is_file():
        if os.environ.get("FS_CPP_REQUIRED") == "1":
            pytest.fail(f"{library} is not built (README's test command builds it)")
        pytest.skip(f"{library} is not built")
    names = cpp_library.library_backends(library)
    assert names[0] == "auto" and {"onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime-trt"} <= set(names)
    assert set(names) <= set(BACKENDS)
    if os.environ.get("FS_CPP_REQUIRED") == "1":
        assert "openvino-cpu" in names
    import json

    import onnxruntime

    from frozenseg_runtime.manifest import validate_manifest

    data = json.loads((HEADER.parents[4] / "runtime" / "cpp" / "tests" / "data" / "manifest_tiny.json").read_text())
    data["precisions"] = {"int8": {"graphs": {name: {"file": f"{name}.int8.onnx", "sha256": "a" * 64,
                                                     "precision": "int8"} for name in data["graphs"]}}}
    manifest = validate_manifest(data, "/art")
    assert cpp_backend("onnxruntime-cpu", "fp32", library, manifest) == "onnxruntime-cpu"
    if "openvino-cpu" in names:
        assert cpp_backend("openvino-cpu", "fp32", library, manifest) == "openvino-cpu"
        if not {"CUDAExecutionProvider", "TensorrtExecutionProvider"} & set(onnxruntime.get_available_providers()):
            # auto as the library resolves it: the manifest's order, FP32 files only on OpenVINO
            assert cpp_backend("auto", "fp32", library, manifest) == "openvino-cpu"
            assert cpp_backend("auto", "int8", library, manifest) == "onnxruntime-cpu"
    lacking = [name for name in BACKENDS if name not in names]
    if lacking:  # tensorrt, on a machine without TensorRT
        with pytest.raises(UsageError, match="it has " + ", ".join(names)):
            cpp_backend(lacking[0], "fp32", library, manifest)
