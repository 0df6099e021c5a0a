"""The bf16 / channels_last benchmark's pieces: a timed step in each variant, and its table."""
from train.precision_bench import VARIANTS, steps_per_second, to_markdown


def test_each_variant_steps_and_the_table_lists_them():
    rows = [{"variant": name, "steps_per_second": steps_per_second(bf16, cl, batch=8, steps=1),
             "ferplus_accuracy": 0.8, "fer2013_accuracy": 0.6, "minutes": 1.0} for name, bf16, cl in VARIANTS]
    assert all(r["steps_per_second"] > 0 for r in rows)
    table = to_markdown(rows, 5000, 2)
    assert "2 epochs on 5000 Training faces" in table
    assert table.count("| 80.00% | 60.00% | 1.0 |") == 4 and "| bf16 + channels_last |" in table
