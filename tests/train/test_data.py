"""Parsing every layout, validation errors naming the line, the cache, splits."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from tests.train.fertools import SHARED, make_faces, pixels_text, write_csv
from train.cache import load_faces
from train.data import CLASSES, USAGES, DataError, read_csv, read_folder
from train.splits import split_indices


def test_kaggle_layout_round_trip(tmp_path, faces14):
    images, labels = faces14
    usages = ["Training"] * 10 + ["PublicTest"] * 2 + ["PrivateTest"] * 2
    fs = read_csv(write_csv(tmp_path / "fer2013.csv", images, labels, usages))
    assert np.array_equal(fs.images, images)
    assert fs.labels.tolist() == labels.tolist()
    assert [USAGES[u] for u in fs.usage] == usages
    assert fs.lines.tolist() == list(range(2, 16))  # line 1 is the header


def test_all_layouts_give_the_same_arrays(tmp_path, faces14):
    images, labels = faces14
    kaggle = read_csv(write_csv(tmp_path / "a.csv", images, labels, ["Training"] * 14))
    gz = read_csv(write_csv(tmp_path / "a.csv.gz", images, labels, ["Training"] * 14))
    train_csv = read_csv(write_csv(tmp_path / "train.csv", images, labels))
    test_csv = read_csv(write_csv(tmp_path / "test.csv", images))
    root = tmp_path / "folder"
    for i, (img, lab) in enumerate(zip(images, labels)):
        d = root / "train" / CLASSES[lab]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(d / f"{i:03d}.png")
    folder = read_folder(root)
    order = sorted(range(14), key=lambda i: (CLASSES[labels[i]], i))  # folders: by folder name, then file name
    for fs in (gz, train_csv, test_csv):
        assert np.array_equal(fs.images, kaggle.images)
    assert np.array_equal(folder.images, images[order])
    assert folder.labels.tolist() == labels[order].tolist()
    assert (folder.usage == USAGES.index("Training")).all()
    assert train_csv.has_labels and not train_csv.has_usage
    assert not test_csv.has_labels and (test_csv.labels == -1).all()


def test_folder_images_of_any_size_and_colour_become_48x48_gray(tmp_path):
    d = tmp_path / "test" / "happy"
    d.mkdir(parents=True)
    Image.new("RGB", (96, 96), (200, 100, 50)).save(d / "big.jpg")
    fs = read_folder(tmp_path)
    assert fs.images.shape == (1, 48, 48)
    assert fs.labels.tolist() == [CLASSES.index("happy")]
    assert USAGES[fs.usage[0]] == "PrivateTest"
    assert abs(int(fs.images[0].mean()) - 124) <= 3  # ITU-R 601 luma of (200,100,50) = 124.2


def test_folder_with_unknown_emotion_names_the_folder(tmp_path):
    (tmp_path / "train" / "bored").mkdir(parents=True)
    with pytest.raises(DataError, match="unknown emotion folder 'bored'"):
        read_folder(tmp_path)


def _bad_file(tmp_path, row: str, header="emotion,pixels,Usage"):
    good = "0," + pixels_text(np.zeros((48, 48), np.uint8)) + ",Training"
    p = tmp_path / "bad.csv"
    p.write_text(f"{header}\n{good}\n{good}\n{row}\n")
    return p


ZERO = " ".join(["0"] * 2304)


@pytest.mark.parametrize("row, reason", [
    ("0," + " ".join(["0"] * 2303) + ",Training", "expected 2304 values .* found 2303"),
    ("9," + ZERO + ",Training", "label '9' is not an integer 0..6"),
    ("0," + ZERO.replace("0", "300", 1) + ",Training", "value 300 outside 0..255"),
    ("0," + ZERO.replace("0", "abc", 1) + ",Training", "non-numeric value 'abc'"),
    ("0," + ZERO, "expected 3 fields"),
    ("0," + ZERO + ",Validation", "unknown value 'Validation'"),
])
def test_malformed_rows_name_file_line_and_reason(tmp_path, row, reason):
    p = _bad_file(tmp_path, row)
    with pytest.raises(DataError, match=rf"bad.csv, line 4: .*{reason}"):
        read_csv(p)


def test_skip_invalid_reports_lines(tmp_path, caplog):
    p = _bad_file(tmp_path, "9," + ZERO + ",Training")
    fs = read_csv(p, skip_invalid=True)
    assert len(fs) == 2
    assert [line for line, _ in fs.skipped] == [4]
    assert "skipped 1 invalid row(s) at line(s) 4" in caplog.text


def test_empty_file_missing_header_and_missing_column(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.csv: file is empty"):
        read_csv(empty)
    headerless = tmp_path / "nohead.csv"
    headerless.write_text("0," + ZERO + ",Training\n")
    with pytest.raises(DataError, match="line 1: missing header"):
        read_csv(headerless)
    nopix = tmp_path / "nopix.csv"
    nopix.write_text("emotion,Usage\n0,Training\n")
    with pytest.raises(DataError, match="missing column 'pixels'"):
        read_csv(nopix)


def test_not_a_csv(tmp_path):
    p = tmp_path / "x.csv.gz"
    p.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="not a readable CSV"):
        read_csv(p)


def test_cache_is_used_and_rebuilt_when_source_changes(tmp_path):
    images, labels = make_faces(7)
    src = write_csv(tmp_path / "d.csv", images, labels, ["Training"] * 7)
    cache = tmp_path / "cache"
    first = load_faces(src, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 1
    again = load_faces(src, cache_dir=cache)
    assert np.array_equal(first.images, again.images)
    images2 = images.copy()
    images2[0, 0, 0] ^= 0xFF
    write_csv(src, images2, labels, ["Training"] * 7)
    changed = load_faces(src, cache_dir=cache)
    assert changed.images[0, 0, 0] == images2[0, 0, 0] != images[0, 0, 0]
    assert len(list(cache.glob("*.npz"))) == 2


def test_stratified_split_is_disjoint_seeded_and_keeps_duplicates_together():
    from train.data import FaceSet

    images, _ = make_faces(700, seed=1)
    labels = np.repeat(np.arange(7), 100).astype(np.int8)
    images[5] = images[6]  # an exact duplicate pair (both label 0)
    fs = FaceSet(images, labels, np.full(700, -1, np.int8), np.arange(700, dtype=np.int32))
    s = split_indices(fs, val_fraction=0.2, test_fraction=0.1, seed=3)
    all_idx = np.concatenate(list(s.values()))
    assert len(all_idx) == len(set(all_idx.tolist())) == 700
    for name, frac in (("PublicTest", 0.2), ("PrivateTest", 0.1)):
        counts = np.bincount(labels[s[name]], minlength=7)
        assert np.all(np.abs(counts - 100 * frac) <= 1), (name, counts)
    together = [name for name, idx in s.items() if 5 in idx and 6 in idx]
    assert len(together) == 1
    s2 = split_indices(fs, val_fraction=0.2, test_fraction=0.1, seed=3)
    assert all(np.array_equal(s[k], s2[k]) for k in s)


def test_usage_split_follows_the_file(tmp_path, faces14):
    images, labels = faces14
    usages = ["Training"] * 10 + ["PublicTest"] * 4
    fs = read_csv(write_csv(tmp_path / "f.csv", images, labels, usages))
    s = split_indices(fs)
    assert s["Training"].tolist() == list(range(10)) and s["PublicTest"].tolist() == list(range(10, 14))


@pytest.mark.skipif(not SHARED.is_file(), reason=f"shared FER2013 file not present at {SHARED}")
def test_shared_file_counts_and_cached_load_time():
    load_faces(SHARED)  # builds the cache on first use
    t = time.perf_counter()
    fs = load_faces(SHARED)
    elapsed = time.perf_counter() - t
    counts = {u: int((fs.usage == i).sum()) for i, u in enumerate(USAGES)}
    assert counts == {"Training": 28709, "PublicTest": 3589, "PrivateTest": 0}
    assert np.bincount(fs.labels[fs.usage == 0]).tolist() == [3995, 436, 4097, 7215, 4830, 3171, 4965]
    assert elapsed < 2.0, f"cached load took {elapsed:.2f} s"


def test_packed_copy_round_trips_and_trains_like_the_csv(tmp_path):
    """`train pack` writes a compact lzma copy that load_faces reads back identically."""
    from tests.train.fertools import make_faces, write_csv
    from train.cache import load_faces
    from train.cli import main

    images, labels = make_faces(21)
    usages = ["Training"] * 14 + ["PublicTest"] * 7
    src = write_csv(tmp_path / "f.csv", images, labels, usages)
    out = tmp_path / "train.npz.xz"
    assert main(["--log-file", "", "pack", str(src), "--out", str(out), "--usage", "Training"]) == 0
    packed = load_faces(out, cache_dir=None, progress=False)
    assert (packed.images == images[:14]).all() and (packed.labels == labels[:14]).all()
    assert packed.has_usage and set(packed.usage.tolist()) == {0}


def test_packed_file_errors_name_the_file(tmp_path):
    from train.data import DataError, read_packed, write_packed

    bad = tmp_path / "junk.npz.xz"
    bad.write_bytes(b"not lzma")
    with pytest.raises(DataError, match=r"junk.npz.xz: not a packed FER2013 file"):
        read_packed(bad)
    with pytest.raises(DataError, match=r"must end in .npz.xz"):
        write_packed(None, tmp_path / "x.npz")
