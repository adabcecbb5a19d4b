"""A real Triton server (nvidia-pytriton's tritonserver 2.51, loopback only) serving the tiny
preset's `--backend python` repository: answers identical to the Python runtime's for every task
and two vocabularies over HTTP and gRPC, the vocabulary cache hit on a repeated vocabulary, the
client command's files, clear errors for bad requests, and a bounded load test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from frozenseg_export.cli import main
from frozenseg_export.synthetic_images import structured_images
from frozenseg_runtime.errors import ServerError, VocabularyError
from frozenseg_runtime.output.postprocess import TASKS
from frozenseg_runtime.text.vocabulary import parse_vocabulary
from frozenseg_runtime.triton import protocol

HERE = Path(__file__).resolve().parent
RESIZE = (320, 352)  # the tiny graphs' smallest range: quick requests
VOCABULARIES = {
    "plain": "person,sky,tree,car,grass",
    "synonyms": [{"names": ["dog", "puppy"], "isthing": True},
                 {"names": ["wall", "brick wall"], "isthing": False},
                 {"names": ["road", "street", "lane"], "isthing": False},
                 {"names": ["cat"], "isthing": True}],
}
STUFF_ONLY = [{"names": ["sky"], "isthing": False}, {"names": ["grass", "lawn"], "isthing": False}]
PROTOCOLS = ("http", "grpc")
LOAD_CLIENTS = 8
LOAD_REQUESTS = 100
LOAD_DEADLINE_S = 300.0  # the whole load test; each request also has its own timeout
INVALID = {"grpc": "StatusCode.INVALID_ARGUMENT", "http": "400"}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """A PNG and a JPEG: the server decodes the files as sent."""
    folder = tmp_path_factory.mktemp("triton-images")
    first, second = structured_images(2, seed=11)
    Image.fromarray(first[:150, :200]).save(folder / "first.png")
    Image.fromarray(second[:180, :120]).save(folder / "second.jpg", quality=90)
    return [folder / "first.png", folder / "second.jpg"]


def make_repository(artifacts, out, env, instances):
    code = main(["triton", "--artifacts", str(artifacts), "--out", str(out), "--backend", "python",
                 "--python-env", str(env), "--instances", str(instances), "--threads", "1"])
    assert code == 0
    return out


def serving(env, artifacts, base, instances):
    """A repository with `instances` of every model, served on loopback until the generator
    closes; then the server must have stopped."""
    from frozenseg_export.triton.local_server import LocalTritonServer

    repo = make_repository(artifacts, base / "repository", env, instances)
    with LocalTritonServer(repo, env, log_file=base / "tritonserver.log") as server:
        assert server.address == "127.0.0.1"  # loopback only
        yield repo, server
        assert server.stop() is not None and not server.running


@pytest.fixture(scope="module")
def served(triton_env, tiny_artifacts, tmp_path_factory):
    yield from serving(triton_env, tiny_artifacts[0], tmp_path_factory.mktemp("triton"), instances=1)


def jobs_for(images):
    """Every (image, vocabulary, task) at the quick size, plus one at the manifest's own resize."""
    jobs = [{"key": f"{i}/{v}/{t}", "image": str(image), "vocabulary": VOCABULARIES[v], "task": t,
             "resize": list(RESIZE)}
            for i, image in enumerate(images) for v in VOCABULARIES for t in TASKS]
    jobs.append({"key": "0/plain/semantic/default", "image": str(images[0]),
                 "vocabulary": VOCABULARIES["plain"], "task": "semantic", "resize": None})
    jobs.append({"key": "1/stuff/instance", "image": str(images[1]), "vocabulary": STUFF_ONLY,
                 "task": "instance", "resize": list(RESIZE)})  # no thing class: no instance
    return jobs


@pytest.fixture(scope="module")
def reference(served, triton_env, tiny_artifacts, images, tmp_path_factory):
    """The Python runtime's answers, in the server's interpreter, from the repository's copy of it."""
    repo, _ = served
    folder = tmp_path_factory.mktemp("triton-reference")
    jobs = jobs_for(images)
    (folder / "jobs.json").write_text(json.dumps(jobs))
    env = dict(os.environ, PYTHONPATH=str(repo / "frozenseg" / "1"))
    python = triton_env / "bin" / "python"
    subprocess.run([str(python), str(HERE / "reference_answers.py"), str(tiny_artifacts[0]),
                    str(folder / "jobs.json"), str(folder / "answers.npz")], check=True, env=env,
                   timeout=600)
    with np.load(folder / "answers.npz") as data:
        answers = {k: data[k] for k in data.files}
    return jobs, answers


def assert_same(result, answers, key):
    """Identical results, bit for bit."""
    if result.task == "semantic":
        np.testing.assert_array_equal(result.semantic_labels, answers[f"{key}/semantic_labels"])
    elif result.task == "panoptic":
        np.testing.assert_array_equal(result.panoptic_seg, answers[f"{key}/panoptic_seg"])
        assert result.segments_info == json.loads(answers[f"{key}/segments_info"].item())
    else:
        for name in ("instance_masks", "instance_scores", "instance_classes"):
            value = getattr(result, name)
            assert value.dtype == answers[f"{key}/{name}"].dtype
            np.testing.assert_array_equal(value, answers[f"{key}/{name}"], err_msg=name)


def client_for(server, kind, timeout_s=120.0):
    from frozenseg_runtime.triton.client import TritonSegmentClient

    return TritonSegmentClient(server.grpc_url if kind == "grpc" else server.http_url, kind, timeout_s=timeout_s)


def send(client, job):
    resize = "default" if job["resize"] is None else tuple(job["resize"])
    return client.segment(job["image"], job["vocabulary"], job["task"], resize)


@pytest.mark.parametrize("kind", PROTOCOLS)
def test_answers_identical_to_the_runtime(served, reference, kind):
    _, server = served
    jobs, answers = reference
    with client_for(server, kind) as client:
        assert client.is_ready()
        for job in jobs:
            result, info = send(client, job)
            assert result.task == job["task"] and info["task"] == job["task"]
            assert result.class_names == parse_vocabulary(job["vocabulary"]).display_names
            assert_same(result, answers, job["key"])
            if job["vocabulary"] is STUFF_ONLY:
                assert result.instance_masks.shape == (0, *result.image_size)
            assert set(info["timings_s"]) == {"vocabulary", "preprocess", "image_encoders", "decoder",
                                              "postprocess"}


def text_model_inferences(server) -> int:
    import tritonclient.http as http

    client = http.InferenceServerClient(server.http_url)
    try:
        (stats,) = client.get_inference_statistics("frozenseg_clip_text")["model_stats"]
        return int(stats["inference_count"])
    finally:
        client.close()


def test_a_repeated_vocabulary_skips_the_text_model(served, images):
    """The pipeline instance's cache: the second request with a vocabulary never seen before runs
    no text model, by the server's own statistics and by the cache's figures."""
    _, server = served
    vocabulary = [{"names": ["traffic light", "signal"], "isthing": True}, {"names": ["ceiling"], "isthing": False}]
    with client_for(server, "grpc") as client:
        before = text_model_inferences(server)
        first, info1 = client.segment(images[1], vocabulary, "semantic", RESIZE)
        after_first = text_model_inferences(server)
        second, info2 = client.segment(images[1], vocabulary, "semantic", RESIZE)
        after_second = text_model_inferences(server)
    assert after_first > before  # a miss: the text model ran
    assert after_second == after_first  # a hit: it did not
    c1, c2 = info1["vocabulary_cache"], info2["vocabulary_cache"]
    assert c2["misses"] == c1["misses"] and c2["memory_hits"] == c1["memory_hits"] + 1
    assert c2["synonyms_encoded"] == c1["synonyms_encoded"]
    np.testing.assert_array_equal(first.semantic_labels, second.semantic_labels)


def test_client_command_writes_the_files_segment_writes(served, tiny_artifacts, images, tmp_path):
    _, server = served
    common = ["--vocabulary", VOCABULARIES["plain"], "--task", "semantic", "--resize", "320,352"]
    assert main(["triton-client", *map(str, images), "--url", server.grpc_url, "--out",
                 str(tmp_path / "served"), *common]) == 0
    assert main(["segment", *map(str, images), "--artifacts", str(tiny_artifacts[0]), "--backend",
                 "onnxruntime-cpu", "--no-cache", "--out", str(tmp_path / "local"), *common]) == 0
    served_files = sorted(p.name for p in (tmp_path / "served").iterdir())
    assert served_files == sorted(p.name for p in (tmp_path / "local").iterdir())
    assert len(served_files) == 3 * len(images)
    for name in served_files:
        a, b = tmp_path / "served" / name, tmp_path / "local" / name
        if name.endswith(".png"):
            np.testing.assert_array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)), err_msg=name)
        else:
            sa, sb = json.loads(a.read_text()), json.loads(b.read_text())
            assert set(sa.pop("timings_s")) >= {"decoder"} and sb.pop("timings_s")
            assert sa == sb


def bad_requests(images):
    """(what, tensors, words the error must carry): each must fail alone, with the reason."""
    good = parse_vocabulary(VOCABULARIES["plain"])
    image = Path(images[0]).read_bytes()
    from frozenseg_runtime.triton.client import request_tensors

    not_json = request_tensors(image, good, "semantic", RESIZE)
    not_json[protocol.VOCABULARY] = np.array([b'{"names": ["cat"]}', b"dog]"], dtype=object)
    duplicate = request_tensors(image, good, "semantic", RESIZE)
    duplicate[protocol.VOCABULARY] = np.array([b'{"names": ["cat"]}', b'{"names": ["Cat"]}'], dtype=object)
    try:
        parse_vocabulary([{"names": ["cat"]}, {"names": ["Cat"]}])
    except VocabularyError as exc:
        duplicate_message = str(exc)
    bad_task = request_tensors(image, good, "depth", RESIZE)
    bad_resize = request_tensors(image, good, "semantic", RESIZE)
    bad_resize[protocol.RESIZE] = np.array([500, 20], dtype=np.int32)
    huge = request_tensors(image, good, "semantic", (50000, 50000))  # must not be tried
    return [
        ("not an image", request_tensors(b"GIF89a-but-not-really", good, "semantic", RESIZE), ["image"]),
        ("truncated PNG", request_tensors(image[: len(image) // 3], good, "semantic", RESIZE), ["image"]),
        ("vocabulary not JSON", not_json, ["vocabulary[1] is not JSON"]),
        ("duplicate class", duplicate, [duplicate_message]),
        ("unknown task", bad_task, ["'task' must be one of", "depth"]),
        ("resize out of order", bad_resize, ["'resize' must be"]),
        ("resize beyond the graphs", huge, ["after resizing", "at most 1344x1344"]),
    ]


@pytest.mark.parametrize("kind", PROTOCOLS)
def test_bad_requests_get_clear_errors_and_the_server_keeps_serving(served, reference, images, kind):
    _, server = served
    jobs, answers = reference
    with client_for(server, kind) as client:
        for what, tensors, words in bad_requests(images):
            with pytest.raises(ServerError) as caught:
                client.infer(tensors, protocol.TASK_OUTPUTS["semantic"])
            message = str(caught.value)
            assert message.startswith("frozenseg: "), (what, message)
            assert all(w in message for w in words), (what, message)
            assert caught.value.status == INVALID[kind], (what, caught.value.status)
            assert client.is_ready()
        result, _ = send(client, jobs[0])  # and the next good request is answered as before
        assert_same(result, answers, jobs[0]["key"])


@pytest.fixture(scope="module")
def served_twice(triton_env, tiny_artifacts, tmp_path_factory):
    """Two instances of every model, for the load test."""
    for _, server in serving(triton_env, tiny_artifacts[0], tmp_path_factory.mktemp("triton-load"), instances=2):
        yield server


def test_load(served_twice, reference, images, tmp_path):
    """LOAD_CLIENTS clients (half gRPC, half HTTP) share LOAD_REQUESTS requests, a bad one every
    25th; every good answer must be the runtime's, every bad one a clear error, nothing else may
    fail, and the whole run must end within LOAD_DEADLINE_S. Prints throughput and latencies (and
    writes them to $FS_TRITON_LOAD_REPORT when set)."""
    server = served_twice
    jobs, answers = reference
    quick = [j for j in jobs if j["resize"] is not None]
    bad = bad_requests(images)
    queue = list(range(LOAD_REQUESTS))
    lock = threading.Lock()
    records: list[dict] = []
    stop = time.monotonic() + LOAD_DEADLINE_S

    def worker(index: int) -> None:
        kind = PROTOCOLS[index % 2]
        with client_for(server, kind, timeout_s=60.0) as client:
            while time.monotonic() < stop:
                with lock:
                    if not queue:
                        return
                    n = queue.pop(0)
                start = time.perf_counter()
                record = {"n": n, "protocol": kind}
                if n % 25 == 24:
                    what, tensors, words = bad[(n // 25) % len(bad)]
                    try:
                        client.infer(tensors, protocol.TASK_OUTPUTS["semantic"])
                        record["outcome"] = f"bad request answered: {what}"
                    except ServerError as exc:
                        ok = str(exc).startswith("frozenseg: ") and all(w in str(exc) for w in words)
                        record["outcome"] = "refused" if ok else f"unclear error for {what}: {exc}"
                else:
                    job = quick[n % len(quick)]
                    try:
                        result, info = send(client, job)
                        assert_same(result, answers, job["key"])
                        record.update(outcome="correct", served_by=info["served_by"])
                    except Exception as exc:  # recorded, then asserted below
                        record["outcome"] = f"failed: {type(exc).__name__}: {exc}"
                record["latency_s"] = time.perf_counter() - start
                with lock:
                    records.append(record)

    began = time.perf_counter()
    with ThreadPoolExecutor(LOAD_CLIENTS) as pool:
        futures = [pool.submit(worker, i) for i in range(LOAD_CLIENTS)]
        done, pending = wait(futures, timeout=LOAD_DEADLINE_S + 60)
        for future in done:
            future.result()
    wall = time.perf_counter() - began
    assert not pending, "the load test did not end in time"
    outcomes = [r["outcome"] for r in records]
    good = [r for r in records if r["outcome"] == "correct"]
    assert len(records) == LOAD_REQUESTS, f"{len(records)} of {LOAD_REQUESTS} requests ran in {wall:.0f} s"
    assert sorted(set(outcomes)) == ["correct", "refused"], sorted(set(outcomes) - {"correct", "refused"})
    assert outcomes.count("refused") == LOAD_REQUESTS // 25
    assert {r["served_by"] for r in good} == {"frozenseg instance frozenseg_0_0", "frozenseg instance frozenseg_0_1"}
    latencies = np.array([r["latency_s"] for r in good]) * 1000
    report = {
        "clients": LOAD_CLIENTS, "requests": len(records), "correct": len(good),
        "refused_as_bad": outcomes.count("refused"),
        "other_errors": len(outcomes) - len(good) - outcomes.count("refused"), "wall_s": round(wall, 2),
        "throughput_rps": round(len(good) / wall, 2),
        "latency_ms": {p: round(float(np.percentile(latencies, q)), 1)
                       for p, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))},
        "by_protocol": {k: sum(r["protocol"] == k for r in good) for k in PROTOCOLS},
        "by_instance": {i: sum(r["served_by"] == i for r in good) for i in sorted({r["served_by"] for r in good})},
        "image_size": list(RESIZE), "preset": "tiny", "instances": 2, "threads_per_graph": 1,
        "cores": os.cpu_count(),
    }
    print("triton load test:", json.dumps(report), file=sys.stderr)
    if os.environ.get("FS_TRITON_LOAD_REPORT"):
        Path(os.environ["FS_TRITON_LOAD_REPORT"]).write_text(json.dumps(report, indent=1))


def test_a_replaced_graph_is_not_served(triton_env, tiny_artifacts, tmp_path):
    """A graph model checks its file against the manifest's sha256 when it loads: the server
    refuses to start and its log says why."""
    from frozenseg_export.triton.local_server import LocalTritonServer
    from frozenseg_runtime.errors import BackendError

    repo = make_repository(tiny_artifacts[0], tmp_path / "repository", triton_env, instances=1)
    graph = repo / "frozenseg_decoder" / "1" / "model.onnx"
    data = bytearray(graph.read_bytes())
    graph.unlink()  # may be a hard link to the artifacts: write a new file
    data[-1] ^= 1
    graph.write_bytes(bytes(data))
    server = LocalTritonServer(repo, triton_env, log_file=tmp_path / "tritonserver.log")
    with pytest.raises(BackendError, match="exited"):
        server.start(timeout_s=120)
    log = (tmp_path / "tritonserver.log").read_text()
    assert "does not match the sha256 of graph 'decoder'" in log
    assert not server.running
