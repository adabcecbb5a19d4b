"""The image-encoder plans of runtime/schedule.py, for the C++ copy of the rule to be checked.

    .venv/bin/python runtime/cpp/tests/data/make_schedule_cases.py

Writes schedule_cases.json beside this script; test_core_schedule.cpp asserts the C++ plan is the
same for each case, tests/cpp/test_cpp_fixtures.py that the file is what Python says today.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from frozenseg_runtime.errors import UsageError
from frozenseg_runtime.schedule import ENCODER_SCHEDULES, plan_encoders

HERE = Path(__file__).resolve().parent


def cases() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    grid = itertools.product((*ENCODER_SCHEDULES, "parallel"), ("onnxruntime-cpu", "onnxruntime-cuda", "tensorrt"),
                             (None, 3), (1, 2, 7, 8, 64))
    for schedule, backend, threads, cores in grid:
        case: dict[str, object] = {"schedule": schedule, "backend": backend, "threads": threads, "cores": cores}
        try:
            plan = plan_encoders(schedule, backend, threads, cores)
            case.update(plan=plan.schedule, image_threads=plan.image_threads)
        except UsageError as exc:
            case.update(error=str(exc))
        out.append(case)
    return out


def main(out: Path = HERE) -> None:
    (out / "schedule_cases.json").write_text(json.dumps(cases(), indent=1) + "\n")


if __name__ == "__main__":
    main()
