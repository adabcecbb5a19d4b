"""The metric implementations on hand-computed cases, and against torchmetrics (a maintained
implementation) on random ones."""

from __future__ import annotations

import numpy as np
import pytest

from frozenseg_export.check.agreement import match_instances, top1_agreement
from frozenseg_export.segmentation_metrics import ConfusionMatrix, PanopticQuality, panoptic_split


def test_confusion_matrix_hand_case():
    truth = np.array([[0, 0, 1], [1, 2, 255]])
    pred = np.array([[0, 1, 1], [1, 2, 0]])
    cm = ConfusionMatrix(4)
    cm.add(pred, truth)
    iou = cm.class_iou()
    # class 0: 1 / (2 + 1 - 1); class 1: 2 / (2 + 3 - 2); class 2: 1 / 1; class 3: absent.
    np.testing.assert_allclose(iou[:3], [0.5, 2 / 3, 1.0])
    assert np.isnan(iou[3])
    r = cm.result()
    assert r["miou"] == pytest.approx((0.5 + 2 / 3 + 1.0) / 3)
    assert r["pixel_accuracy"] == pytest.approx(4 / 5)  # the ignored pixel is not counted
    assert r["mean_accuracy"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert r["classes"] == 3


def test_confusion_matrix_accumulates_pixels_not_image_means():
    cm = ConfusionMatrix(2)
    cm.add(np.zeros((1, 4), int), np.array([[0, 0, 0, 1]]))  # class 0: 3/4, class 1: 0/1
    cm.add(np.ones((1, 1), int), np.ones((1, 1), int))  # class 1: 1/1
    # pooled: class 0 = 3 / (3 + 4 - 3) = 0.75; class 1 = 1 / (2 + 1 - 1) = 0.5
    assert cm.result()["miou"] == pytest.approx((0.75 + 0.5) / 2)


def test_confusion_matrix_refuses_labels_out_of_range():
    with pytest.raises(ValueError, match="outside"):
        ConfusionMatrix(2).add(np.array([[2]]), np.array([[0]]))


def _segments(pairs):
    return [{"id": i, "category_id": c, **({"iscrowd": 1} if crowd else {})} for i, c, crowd in pairs]


def test_panoptic_quality_hand_case():
    # truth: segment 1 (category 0) the left half, segment 2 (category 1) the right half of 4x4.
    truth = np.array([[1, 1, 2, 2]] * 4)
    # prediction: segment 5 (category 0) the left half and column 2; segment 6 (category 1) column 3.
    pred = np.array([[5, 5, 5, 6]] * 4)
    pq = PanopticQuality()
    pq.add(pred, _segments([(5, 0, 0), (6, 1, 0)]), truth, _segments([(1, 0, 0), (2, 1, 0)]))
    # category 0: IoU 8/12 > 0.5, a true positive; category 1: IoU 4/8 = 0.5 is no match: FP + FN.
    r = pq.result()
    assert r["pq"] == pytest.approx((8 / 12 + 0.0) / 2)
    assert r["sq"] == pytest.approx((8 / 12 + 0.0) / 2)
    assert r["rq"] == pytest.approx((1.0 + 0.0) / 2)
    split = panoptic_split(pq, {0: True, 1: False})
    assert split["things"]["pq"] == pytest.approx(8 / 12) and split["things"]["categories"] == 1
    assert split["stuff"]["pq"] == 0.0 and split["stuff"]["categories"] == 1


def test_panoptic_quality_void_leaves_the_union_and_spares_predictions():
    # truth: segment 1 on the left half, void (0) on the right half.
    truth = np.array([[1, 1, 0, 0]] * 2)
    # prediction 3 covers all of it: IoU counts without the void part: 4 / (8 + 4 - 4 - 4) = 1.
    pq = PanopticQuality()
    pq.add(np.full((2, 4), 3), _segments([(3, 0, 0)]), truth, _segments([(1, 0, 0)]))
    assert pq.result()["pq"] == pytest.approx(1.0)
    # a prediction lying on void only is no false positive.
    pred = np.array([[3, 3, 4, 4]] * 2)
    pq = PanopticQuality()
    pq.add(pred, _segments([(3, 0, 0), (4, 0, 0)]), truth, _segments([(1, 0, 0)]))
    assert pq.per_category[0].fp == 0 and pq.per_category[0].tp == 1


def test_panoptic_quality_crowd_regions_are_neither_missed_nor_false_positives():
    # truth: a crowd segment 7 of category 0 on the right half, a normal one (1) on the left.
    truth = np.array([[1, 1, 7, 7]] * 2)
    truth_segments = _segments([(1, 0, 0), (7, 0, 1)])
    pred = np.array([[3, 3, 4, 4]] * 2)  # 3 matches 1; 4 lies on the crowd region of its category
    pq = PanopticQuality()
    pq.add(pred, _segments([(3, 0, 0), (4, 0, 0)]), truth, truth_segments)
    stats = pq.per_category[0]
    assert (stats.tp, stats.fp, stats.fn) == (1, 0, 0)
    # the same prediction with another category lies on a crowd of a different class: a false positive.
    pq = PanopticQuality()
    pq.add(pred, _segments([(3, 0, 0), (4, 1, 0)]), truth, truth_segments)
    assert pq.per_category[1].fp == 1


def _to_torchmetrics(ids: np.ndarray, segments: dict[int, int]):
    import torch

    cats = np.vectorize(lambda i: segments.get(int(i), 99))(ids)
    return torch.from_numpy(np.stack([cats, ids], -1)[None].astype(np.int64))


@pytest.mark.parametrize("seed", range(6))
def test_panoptic_quality_agrees_with_torchmetrics(seed):
    """Random segmentations with no void or crowd (torchmetrics handles neither as the COCO API
    does; the hand cases above pin those down) and stuff at most one segment per image (it
    merges a stuff category's instances): the same PQ, SQ, RQ."""
    pytest.importorskip("torchmetrics")
    from torchmetrics.detection import PanopticQuality as TorchmetricsPQ

    rng = np.random.default_rng(seed)
    things, stuffs = {0, 1}, {2, 3}

    def random_map():
        ids = np.full((24, 24), 9, np.int64)  # background: stuff category 3, so no void
        cats = {9: 3}
        for k, cat in enumerate(rng.permutation([0, 0, 1, 1, 2])[: rng.integers(2, 5)], start=1):
            y, x = rng.integers(0, 18, 2)
            h, w = rng.integers(4, 12, 2)
            ids[y:y + h, x:x + w] = k
            cats[k] = int(cat)
        present = set(np.unique(ids).tolist())
        return ids, {k: c for k, c in cats.items() if k in present}

    ours = PanopticQuality()
    theirs = TorchmetricsPQ(things=things, stuffs=stuffs, return_sq_and_rq=True, allow_unknown_preds_category=True)
    for _ in range(3):
        (p, pc), (t, tc) = random_map(), random_map()
        ours.add(p, [{"id": k, "category_id": c} for k, c in pc.items()], t,
                 [{"id": k, "category_id": c} for k, c in tc.items()])
        theirs.update(_to_torchmetrics(p, pc), _to_torchmetrics(t, tc))
    expected = theirs.compute().tolist()
    r = ours.result()
    assert [r["pq"], r["sq"], r["rq"]] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_class_iou_agrees_with_torchmetrics(seed):
    pytest.importorskip("torchmetrics")
    import torch
    from torchmetrics.classification import MulticlassJaccardIndex

    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 5, (3, 20, 20))
    truth[rng.random(truth.shape) < 0.1] = 255
    pred = np.where(rng.random(truth.shape) < 0.7, np.clip(truth, 0, 4), rng.integers(0, 5, truth.shape))
    cm = ConfusionMatrix(5)
    for p, t in zip(pred, truth):
        cm.add(p, t)
    metric = MulticlassJaccardIndex(num_classes=5, average="none", ignore_index=255)
    expected = metric(torch.from_numpy(pred), torch.from_numpy(truth)).numpy()
    np.testing.assert_allclose(cm.class_iou(), expected, atol=1e-6)


def test_instances_match_one_to_one_preferring_the_same_class():
    a = np.zeros((3, 4, 4), bool)
    a[0, :2] = True  # rows 0-1
    a[1, :2] = True  # the same mask again, under another class (top-k repeats a query)
    a[2, 2:] = True
    b = np.zeros((2, 4, 4), bool)
    b[0, :2] = True
    b[1, 2:, :3] = True  # IoU with a[2]: 6 / 8
    m = match_instances(a, np.array([5, 3, 4]), b, np.array([3, 7]))
    assert m.matched == 2 and m.counts == (3, 2)
    assert m.ious == pytest.approx((1.0, 6 / 8))
    assert m.same_class == 1  # a[1] (class 3) took b[0] (class 3), not a[0]; a[2] vs b[1] differ


def test_top1_agreement_counts_queries():
    probs = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert top1_agreement(probs, np.array([[0.2, 0.8], [0.4, 0.6], [0.1, 0.9]])) == pytest.approx(2 / 3)
