"""Datasheet peak throughput of common NVIDIA GPUs and Jetson modules, for fraction-of-peak reports.

Why: the benchmark measures achieved FLOP/s (OP/s for INT8) per model stage; next to a peak, "41 TFLOP/s"
becomes "34 % of an L4's dense FP16 tensor peak". Peaks cannot be queried at run time (NVML reports clocks,
not per-precision tensor rates), so they live here, one row per device, each with the NVIDIA document it
comes from. A figure not confirmed from an NVIDIA datasheet, spec page or whitepaper (or a faithful
reproduction of one, named in ``note``) is ``None``: never a guess. ``peak_for`` then returns ``None``.

Conventions:
* Dense only (no 2:4 sparsity). NVIDIA often prints only the sparse figure (footnoted "with sparsity"); it
  is halved here and ``note`` says so. Where a "dense | sparse*" pair is printed, the dense value is used.
* ``fp32_tflops``: CUDA-core FP32 (non-tensor). ``fp16_tensor_tflops``: FP16 tensor core with FP32
  accumulation (what PyTorch/cuBLAS use). Data-centre and professional parts print one FP16 rate; GeForce
  parts run FP32 accumulation at half the FP16-accumulate rate, and the FP32-accumulate figure is used.
* ``int8_tensor_tops``: INT8 tensor core, TOP/s. ``memory_bandwidth_gbs``: DRAM, GB/s (10^9 B/s).
* Jetson: MAXN power mode (MAXN SUPER in rows named "Super"), GPU only. Jetson "AI performance" headlines
  are sparse INT8 for GPU plus DLAs on AGX Orin / Orin NX / Xavier and are not used; Orin Nano has no DLA,
  so its headline is GPU-only. Jetson DRAM is shared with the CPU. The power mode (``nvpmodel -q``) is not
  visible in any name.

Identifying the device: pass ``torch.cuda.get_device_name()`` or ``nvidia-smi --query-gpu=name`` output to
``find_peak``. On Jetson, torch reports just "Orin" (or "Xavier") for every module, which is deliberately
unmatched: read ``/proc/device-tree/model`` instead (e.g. "NVIDIA Jetson AGX Orin Developer Kit").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PEAKS", "DevicePeak", "find_peak", "peak_for"]


@dataclass(frozen=True)
class DevicePeak:
    """Dense datasheet peaks of one device (see the module docstring for conventions)."""

    name: str
    fp32_tflops: float | None
    fp16_tensor_tflops: float | None
    int8_tensor_tops: float | None
    memory_bandwidth_gbs: float | None
    source: str
    note: str = ""


# fmt: off
_H200 = "NVIDIA H200 Tensor Core GPU product page, https://www.nvidia.com/en-us/data-center/h200/"
_H100 = "NVIDIA H100 Tensor Core GPU product page/datasheet, https://www.nvidia.com/en-us/data-center/h100/"
_H100_PCIE = ("NVIDIA H100 PCIe product brief PB-11133-001, https://www.nvidia.com/content/dam/en-zz/Solutions/"
              "gtcs22/data-center/h100/PB-11133-001_v01.pdf, and NVIDIA H100 Tensor Core GPU Architecture whitepaper")
_A100 = ("NVIDIA A100 Tensor Core GPU datasheet, https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/"
         "a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf")
_L40S = "NVIDIA L40S GPU product page/datasheet, https://www.nvidia.com/en-us/data-center/l40s/"
_L40 = "NVIDIA L40 GPU datasheet, https://resources.nvidia.com/en-us-l40/l40-datasheet"
_L4 = "NVIDIA L4 Tensor Core GPU product page/datasheet, https://www.nvidia.com/en-us/data-center/l4/"
_A10 = "NVIDIA A10 datasheet, https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a10/pdf/a10-datasheet.pdf"
_A30 = "NVIDIA A30 Tensor Core GPU product page, https://www.nvidia.com/en-us/data-center/products/a30-gpu/"
_T4 = ("NVIDIA T4 Tensor Core GPU datasheet, https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/"
       "tesla-t4/t4-tensor-core-datasheet-951643.pdf, and https://www.nvidia.com/en-us/data-center/tesla-t4/")
_V100 = ("NVIDIA V100 Tensor Core GPU datasheet, https://images.nvidia.com/content/technologies/volta/pdf/"
         "volta-v100-datasheet-update-us-1165301-r5.pdf")
_ADA = ("NVIDIA Ada GPU Architecture whitepaper, "
        "https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf")
_GA102 = ("NVIDIA Ampere GA102 GPU Architecture whitepaper, "
          "https://www.nvidia.com/content/PDF/nvidia-ampere-ga-102-gpu-architecture-whitepaper-v2.pdf")
_RTX6000ADA = "NVIDIA RTX 6000 Ada Generation product page, https://www.nvidia.com/en-us/design-visualization/rtx-6000/"
_RTXA6000 = "NVIDIA RTX A6000 product page, https://www.nvidia.com/en-us/design-visualization/rtx-a6000/"
_AGX_ORIN = ("NVIDIA Jetson AGX Orin Series Technical Brief, https://www.nvidia.com/content/dam/en-zz/Solutions/"
             "gtcf21/jetson-orin/nvidia-jetson-agx-orin-technical-brief.pdf, and NVIDIA Deep-Learning-Accelerator-SW "
             "README, https://github.com/NVIDIA/Deep-Learning-Accelerator-SW")
_ORIN = ("NVIDIA Jetson Orin product page, "
         "https://www.nvidia.com/en-us/autonomous-machines/embedded-systems/jetson-orin/")
_ORIN_NANO = ("NVIDIA Jetson Orin Nano Series data sheet, and NVIDIA blog 'Jetson Orin Nano Developer Kit Gets a Super "
              "Boost', https://developer.nvidia.com/blog/nvidia-jetson-orin-nano-developer-kit-gets-a-super-boost/")
_XAVIER = "NVIDIA Jetson AGX Xavier series page, https://developer.nvidia.com/embedded/jetson-agx-xavier"
_XAVIER_NX = "NVIDIA Jetson Xavier NX series page, https://developer.nvidia.com/embedded/jetson-xavier-nx"

_SPARSE_HALVED = "Tensor figures are the printed 'with sparsity' values halved. "
_UNCONFIRMED = "No figure could be confirmed from an NVIDIA document, so all are None; the row only names the device."

P = DevicePeak
PEAKS: tuple[DevicePeak, ...] = (
    P("NVIDIA H200", 67.0, 989.5, 1979.0, 4800.0, _H200, _SPARSE_HALVED + "SXM, 700 W (nvidia-smi: 'NVIDIA H200'). "
      "Page: FP32 67, FP16 1,979*, INT8 3,958*, 4.8 TB/s; read via reproductions of the page's table in public repos."),
    P("NVIDIA H200 NVL", 60.0, 835.5, 1670.5, 4800.0, _H200, _SPARSE_HALVED + "PCIe, up to 600 W. Page: FP32 60, "
      "FP16 1,671*, INT8 3,341*, 4.8 TB/s (an early Jul-2024 datasheet gave NVL the SXM figures; the page is newer)."),
    P("NVIDIA H100 SXM", 67.0, 989.5, 1979.0, 3350.0, _H100, _SPARSE_HALVED + "SXM5 80 GB HBM3, 700 W (nvidia-smi: "
      "'NVIDIA H100 80GB HBM3'). Datasheet: FP32 67, FP16 1,979*, INT8 3,958*, 3.35 TB/s."),
    P("NVIDIA H100 NVL", 60.0, 835.5, 1670.5, 3900.0, _H100, _SPARSE_HALVED + "PCIe 94 GB, 350-400 W. Datasheet: "
      "FP32 60, FP16 1,671*, INT8 3,341*, 3.9 TB/s."),
    P("NVIDIA H100 PCIe", 51.0, 756.0, 1513.0, 2000.0, _H100_PCIE, "PCIe 80 GB HBM2e, 300-350 W. Printed dense | "
      "sparse: FP16 756 | 1,513, INT8 1,513 | 3,026; FP32 51; 2,000 GB/s (brief; the whitepaper's 2,039 was "
      "'not finalized'). Read via reproductions of the brief/whitepaper tables in public repos."),
    P("NVIDIA A100 SXM4 80GB", 19.5, 312.0, 624.0, 2039.0, _A100, "Printed dense | sparse: FP16 312 | 624, INT8 "
      "624 | 1,248; FP32 19.5. Read via glennklockwood.com/garden/processors/A100 and repos quoting the datasheet."),
    P("NVIDIA A100 SXM4 40GB", 19.5, 312.0, 624.0, 1555.0, _A100, "As A100 SXM4 80GB; 1,555 GB/s HBM2."),
    P("NVIDIA A100 PCIe 80GB", 19.5, 312.0, 624.0, 1935.0, _A100, "Same compute as SXM per the datasheet; 1,935 GB/s."),
    P("NVIDIA A100 PCIe 40GB", 19.5, 312.0, 624.0, 1555.0, _A100, "Same compute as SXM per the datasheet; 1,555 GB/s."),
    P("NVIDIA A100", 19.5, 312.0, 624.0, None, _A100, "Form factor/memory not in the name: compute is the same on all "
      "A100s per the datasheet, bandwidth (1,555-2,039 GB/s) is not, so it is None."),
    P("NVIDIA L40S", 91.6, 362.05, 733.0, 864.0, _L40S, "Printed dense | sparse: FP16 362.05 | 733, INT8 733 | 1,466; "
      "FP32 91.6; 864 GB/s. The page does not state the accumulate precision of the FP16 figure; some third-party "
      "analyses argue the FP32-accumulate rate is half of it."),
    P("NVIDIA L40", None, 181.05, None, None, _L40, "FP16/BF16 printed as 181.05 | 362.1* (dense used), read via a "
      "public repo quoting the datasheet. FP32, INT8 and bandwidth were not confirmed."),
    P("NVIDIA L4", 30.3, 121.0, 242.5, 300.0, _L4, _SPARSE_HALVED + "72 W. Page: FP32 30.3, FP16 242*, INT8 485*, "
      "300 GB/s (the Ada whitepaper appendix prints 121 | 242 for FP16)."),
    P("NVIDIA A10", 31.2, 125.0, 250.0, 600.0, _A10, "Printed dense | sparse: FP16 125 | 250, INT8 250 | 500; FP32 "
      "31.2; 600 GB/s. AWS's A10G is a different SKU and not matched."),
    P("NVIDIA A30", None, None, None, None, _A30, _UNCONFIRMED),
    P("NVIDIA T4", 8.1, 65.0, 130.0, 320.0, _T4, "No sparsity on Turing; fp16 is the 'Mixed Precision (FP16/FP32)' "
      "65 TFLOPS. The page gives '320+ GB/s' (the Ada whitepaper's T4 column: 320). nvidia-smi: 'Tesla T4'."),
    P("NVIDIA V100 SXM2", 15.7, 125.0, None, None, _V100, "FP32 15.7, Tensor 125 (Volta: FP16 in, FP32 accumulate), "
      "read via Lightning-AI's throughput table quoting this datasheet. No INT8 tensor cores; bandwidth unconfirmed."),
    P("NVIDIA V100 PCIe", 14.0, 112.0, None, None, _V100, "As V100 SXM2: FP32 14, Tensor 112."),
    P("NVIDIA V100S PCIe", 16.4, 130.0, None, None, _V100, "As V100 SXM2: FP32 16.4, Tensor 130."),
    P("NVIDIA GeForce RTX 4090", None, 165.2, 660.6, 1008.0, _ADA, "Whitepaper dense | sparse: FP16 with FP32 "
      "accumulate 165.2 | 330.4 (FP16-accumulate kernels can exceed 100 %), INT8 660.6 | 1,321.2; 1,008 GB/s. FP32 "
      "not confirmed. Read via a public repo quoting the whitepaper's table. 'RTX 4090 D' is not matched."),
    P("NVIDIA GeForce RTX 4080", None, None, None, None, _ADA, _UNCONFIRMED),
    P("NVIDIA GeForce RTX 3090", 35.6, 71.0, 284.0, 936.0, _GA102, "Whitepaper dense | sparse: FP16 with FP32 "
      "accumulate 71 | 142 (FP16 accumulate: 142 | 284), INT8 284 | 568; FP32 35.6; 936 GB/s. Read via public repos "
      "quoting the whitepaper. 'RTX 3090 Ti' is not matched."),
    P("NVIDIA RTX 6000 Ada Generation", None, None, None, None, _RTX6000ADA, _UNCONFIRMED),
    P("NVIDIA RTX A6000", None, None, None, None, _RTXA6000, _UNCONFIRMED),
    P("NVIDIA Jetson AGX Orin 64GB", 5.3, None, 85.5, None, _AGX_ORIN, "MAXN, GPU only (2,048 CUDA / 64 Tensor cores). "
      "int8: NVIDIA's DLA-SW README gives 171 sparse GPU TOPS at MAXN (the brief: 170), halved; the 275 headline "
      "includes the 2 DLAs. fp32: the brief's 5.3 TFLOPS (read via a reproduction). No GPU FP16 tensor figure is "
      "printed; 204.8 GB/s was not confirmed. The AGX Orin Developer Kit uses this GPU configuration."),
    P("NVIDIA Jetson AGX Orin 32GB", None, None, None, None, _ORIN, _UNCONFIRMED + " (200 TOPS: with DLAs.)"),
    P("NVIDIA Jetson Orin NX 16GB", None, None, None, None, _ORIN, _UNCONFIRMED + " (100/157 TOPS headlines include "
      "DLAs; no GPU-only figure found.)"),
    P("NVIDIA Jetson Orin NX 8GB", None, None, None, None, _ORIN, _UNCONFIRMED + " (Headlines include DLAs.)"),
    P("NVIDIA Jetson Orin Nano 8GB", None, None, 20.0, 68.0, _ORIN_NANO, "15 W top mode (GPU 625 MHz). No DLA, so "
      "the 40 sparse INT8 TOPS headline is GPU-only; halved. 68 GB/s. Read via brojogopalsapui.com (quoting "
      "NVIDIA's Orin Nano Super datasheet). No FP32/FP16 figure found."),
    P("NVIDIA Jetson Orin Nano 8GB Super", None, None, 33.5, 102.0, _ORIN_NANO, "MAXN SUPER (JetPack 6.1+/6.2, 25 W, "
      "GPU 1,020 MHz): 67 sparse INT8 TOPS, GPU-only, halved; 102 GB/s. Same source as the 15 W row. Chosen only "
      "when the name contains 'Super'."),
    P("NVIDIA Jetson Orin Nano 4GB", None, None, 10.0, None, _ORIN_NANO, "15 W mode: the data sheet prints 'Up to 20 "
      "(Sparse) INT8 TOPs and 10 (Dense)' (read via a scribd copy). No DLA. Bandwidth and Super figures unconfirmed."),
    P("NVIDIA Jetson AGX Xavier", None, None, None, None, _XAVIER, _UNCONFIRMED + " (32 TOPS headline includes DLAs.)"),
    P("NVIDIA Jetson Xavier NX", None, None, None, None, _XAVIER_NX, _UNCONFIRMED + " (21 TOPS: with DLAs.)"),
)
del P

# name -> (match strings, exclude strings); matched case-insensitively at word boundaries, '-'/'_' read as spaces.
_ALIASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "NVIDIA H200": (("h200", "h200 sxm"), ("nvl",)),
    "NVIDIA H200 NVL": (("h200 nvl",), ()),
    "NVIDIA H100 SXM": (("h100 80gb hbm3", "h100 sxm", "h100 sxm5"), ()),
    "NVIDIA H100 NVL": (("h100 nvl", "h100nvl"), ()),
    "NVIDIA H100 PCIe": (("h100 pcie",), ()),
    "NVIDIA A100 SXM4 80GB": (("a100 sxm4 80gb", "a100 sxm 80gb"), ()),
    "NVIDIA A100 SXM4 40GB": (("a100 sxm4 40gb", "a100 sxm 40gb"), ()),
    "NVIDIA A100 PCIe 80GB": (("a100 80gb pcie", "a100 pcie 80gb"), ()),
    "NVIDIA A100 PCIe 40GB": (("a100 pcie 40gb", "a100 40gb pcie"), ()),
    "NVIDIA A100": (("a100",), ()),
    "NVIDIA L40S": (("l40s",), ()),
    "NVIDIA L40": (("l40",), ()),
    "NVIDIA L4": (("l4",), ()),
    "NVIDIA A10": (("a10",), ()),
    "NVIDIA A30": (("a30",), ()),
    "NVIDIA T4": (("t4",), ()),
    "NVIDIA V100 SXM2": (("v100 sxm2",), ()),
    "NVIDIA V100 PCIe": (("v100 pcie",), ()),
    "NVIDIA V100S PCIe": (("v100s", "v100s pcie"), ()),
    "NVIDIA GeForce RTX 4090": (("rtx 4090",), ("4090 d",)),
    "NVIDIA GeForce RTX 4080": (("rtx 4080",), ("super",)),
    "NVIDIA GeForce RTX 3090": (("rtx 3090",), ("3090 ti",)),
    "NVIDIA RTX 6000 Ada Generation": (("rtx 6000 ada",), ()),
    "NVIDIA RTX A6000": (("rtx a6000",), ()),
    "NVIDIA Jetson AGX Orin 64GB": (("agx orin", "agx orin 64gb"), ("32gb",)),
    "NVIDIA Jetson AGX Orin 32GB": (("agx orin 32gb",), ()),
    "NVIDIA Jetson Orin NX 16GB": (("orin nx", "orin nx 16gb"), ("8gb",)),
    "NVIDIA Jetson Orin NX 8GB": (("orin nx 8gb",), ()),
    "NVIDIA Jetson Orin Nano 8GB": (("orin nano", "orin nano 8gb"), ("4gb", "super")),
    "NVIDIA Jetson Orin Nano 8GB Super": (("orin nano super", "orin nano 8gb super", "developer kit super"), ("4gb",)),
    "NVIDIA Jetson Orin Nano 4GB": (("orin nano 4gb",), ()),
    "NVIDIA Jetson AGX Xavier": (("agx xavier", "jetson agx"), ("orin", "thor")),
    "NVIDIA Jetson Xavier NX": (("xavier nx",), ()),
}

# fmt: on


def _normalise(text: str) -> str:
    """Lower case; NULs (device-tree strings), '-' and '_' to spaces; whitespace collapsed."""
    return " ".join(re.sub(r"[-_\x00]", " ", text.lower()).split())


def _contains(haystack: str, needle: str) -> bool:
    return re.search(r"(?<![a-z0-9])" + re.escape(needle) + r"(?![a-z0-9])", haystack) is not None


def find_peak(device_name: str) -> DevicePeak | None:
    """The row for a reported device name, or ``None`` when no row matches.

    Accepts ``torch.cuda.get_device_name()``, ``nvidia-smi`` names and Jetson ``/proc/device-tree/model``
    strings. Case-insensitive, at word boundaries ("l4" does not match "L40S", "h200" not "GH200"); a row is
    skipped if one of its exclude strings occurs; the longest matching string wins, so "NVIDIA H200 NVL" finds
    the NVL row and "NVIDIA H100 80GB HBM3" the SXM row. A bare "Orin" (torch on any Jetson Orin) matches nothing.
    """
    name = _normalise(device_name)
    best: DevicePeak | None = None
    best_len = 0
    for peak in PEAKS:
        matches, excludes = _ALIASES[peak.name]
        if any(_contains(name, ex) for ex in excludes):
            continue
        for m in matches:
            if len(m) > best_len and _contains(name, m):
                best, best_len = peak, len(m)
    return best


def peak_for(peak: DevicePeak, precision: str) -> float | None:
    """Peak in FLOP/s (OP/s for ``"int8"``) for ``precision``, or ``None`` when the table has no figure.

    * ``"fp32"``: the CUDA-core FP32 figure, also on GPUs with TF32 tensor cores (Ampere and later). PyTorch
      only uses TF32 when ``torch.backends.cuda.matmul.allow_tf32`` is set, and a TF32 peak would make honest
      FP32 kernels look idle; a TF32 run may therefore exceed 100 %.
    * ``"fp16"``: dense FP16 tensor core, FP32 accumulate.
    * ``"int8"``: dense INT8 tensor core.
    * ``"mixed"``: the FP16 tensor figure, because under autocast the FLOPs that dominate (matmuls and
      convolutions) run on FP16/BF16 tensor cores, whose dense rates are equal on Ampere and later.
    """
    fields = {
        "fp32": "fp32_tflops",
        "fp16": "fp16_tensor_tflops",
        "mixed": "fp16_tensor_tflops",
        "int8": "int8_tensor_tops",
    }
    key = precision.lower()
    if key not in fields:
        raise ValueError(f"precision must be one of {sorted(fields)}, got {precision!r}")
    tera: float | None = getattr(peak, fields[key])
    return None if tera is None else tera * 1e12
