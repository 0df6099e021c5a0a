from realtime.boxes import fraction_inside, greedy_match, iou, overlaps


def test_overlap_measures_known_answers():
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == 50 / 150
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0 and not overlaps((0, 0, 10, 10), (10, 0, 10, 10))
    assert overlaps((0, 0, 10, 10), (9, 9, 5, 5))
    assert fraction_inside((2, 2, 4, 4), (0, 0, 10, 10)) == 1.0


def test_greedy_match_takes_the_best_pair_first_and_each_box_once():
    first = [(0, 0, 10, 10), (100, 0, 10, 10)]
    second = [(1, 0, 10, 10), (0, 0, 10, 10), (300, 0, 10, 10)]
    assert greedy_match(first, second, 0.5) == {0: 1}  # the exact box wins; box 1 of first has no partner
    assert greedy_match(first, second[:1], 0.5) == {0: 0}
    assert greedy_match(first, second[:1], 0.9) == {}
