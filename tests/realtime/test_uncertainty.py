"""The "uncertain" rule: known probability vectors, the metadata block (checked by the contract),
and a face built to be doubtful (a stand-in model answering a blend of fear and neutral)."""
from __future__ import annotations

import json
import shutil

import pytest

from realtime import Analyzer, PipelineConfig, Stream, contract
from realtime.classifier import EmotionClassifier, ModelError
from realtime.research.devmodel import CLASSES, write_standin_model
from realtime.research.scenes import real_photo
from realtime.uncertainty import PROBABILITY_NOTE, is_uncertain, label_for, leading_two, rule_of, uncertain_note

BLEND = [0.05, 0.05, 0.35, 0.10, 0.10, 0.05, 0.30]  # fear 35 % / neutral 30 %: nobody would be sure
SURE = [0.01, 0.01, 0.02, 0.87, 0.03, 0.02, 0.04]


def probs(values):
    return dict(zip(CLASSES, values))


def test_rule_on_known_probability_vectors():
    assert is_uncertain(probs(BLEND)) and not is_uncertain(probs(SURE))
    at = probs([0.5, 0.5, 0, 0, 0, 0, 0])
    assert not is_uncertain(at)  # "below" the threshold: exactly 0.5 is an answer
    assert is_uncertain(probs([0.499, 0.501 - 0.2, 0.2, 0, 0, 0, 0]))
    strict = contract.UncertaintyRule(threshold=0.9)
    assert is_uncertain(probs(SURE), strict) and not is_uncertain(probs([0.95, 0.05, 0, 0, 0, 0, 0]), strict)
    assert not is_uncertain({})


def test_leading_two_and_labels():
    assert leading_two(probs(BLEND)) == [("fear", 0.35), ("neutral", 0.30)]
    assert leading_two(probs([0.3, 0.3, 0.4, 0, 0, 0, 0])) == [("fear", 0.4), ("angry", 0.3)]  # ties: class order
    assert label_for(probs(BLEND)) == "uncertain: fear 35% / neutral 30%"
    assert label_for(probs(SURE)) == "happy 87%"
    assert label_for(probs(SURE), uncertain=True) == "uncertain: happy 87% / neutral 4%"  # a stored mark wins
    assert label_for(probs(BLEND), contract.UncertaintyRule(threshold=0.3)) == "fear 35%"


def test_notes_name_the_threshold():
    assert "62 of 100 people" in PROBABILITY_NOTE
    assert "50%" in uncertain_note() and "55%" in uncertain_note(0.55)


@pytest.mark.parametrize("block, message", [
    ("0.5", r"'uncertainty' must be a JSON object"),
    ({"rule": "entropy_above", "threshold": 0.5}, r"'uncertainty.rule' is 'entropy_above'; known rules: top_probability_below"),
    ({"threshold": 0.5}, r"'uncertainty.rule' is None"),
    ({"rule": "top_probability_below"}, r"'uncertainty.threshold' must be a number in \(0, 1\], got None"),
    ({"rule": "top_probability_below", "threshold": 0}, r"threshold' must be a number in \(0, 1\], got 0"),
    ({"rule": "top_probability_below", "threshold": 1.5}, r"got 1.5"),
    ({"rule": "top_probability_below", "threshold": "0.5"}, r"got '0.5'"),
    ({"rule": "top_probability_below", "threshold": True}, r"got True"),
    ({"rule": "top_probability_below", "threshold": 0.5, "treshold": 0.6}, r"unknown field\(s\) treshold; known: rule"),
    ({"rule": "top_probability_below", "threshold": 0.5, "note": 3}, r"'uncertainty.note' must be text"),
])
def test_a_malformed_uncertainty_block_is_refused_naming_the_file(standin_model, tmp_path, block, message):
    for suffix in (".onnx", ".json"):
        shutil.copy(standin_model.with_suffix(suffix), tmp_path / f"m{suffix}")
    meta_file = tmp_path / "m.json"
    meta_file.write_text(json.dumps({**json.loads(meta_file.read_text()), "uncertainty": block}))
    with pytest.raises(ModelError, match=r"m\.json: .*" + message):
        EmotionClassifier(tmp_path / "m.onnx")


def test_the_rule_travels_with_the_model(tmp_path):
    block = {"rule": "top_probability_below", "threshold": 0.3, "chosen_on": "PublicTest, 80 % coverage",
             "note": "measured"}
    model = write_standin_model(tmp_path, "ruled", probabilities=BLEND, uncertainty=block)
    assert json.loads(model.with_suffix(".json").read_text())["uncertainty"] == block
    meta = contract.load(model)
    assert meta.uncertainty_rule == contract.UncertaintyRule("top_probability_below", 0.3, block["chosen_on"], "measured")
    analyzer = Analyzer(PipelineConfig(model_path=str(model)))
    assert analyzer.uncertainty.threshold == 0.3
    (face,) = analyzer.analyze(real_photo("astronaut")).faces
    assert not face.uncertain and face.label == "fear 35%"  # 0.35 is an answer under this model's rule
    meta.uncertainty = contract.UncertaintyRule(threshold=2.0)  # a bad rule is refused when written
    with pytest.raises(ModelError, match=r"ruled\.json: 'uncertainty.threshold' must be a number in \(0, 1\], got 2.0"):
        contract.write(model, meta)
    # without the block: the documented default
    plain = contract.read(write_standin_model(tmp_path, "plain"))
    assert plain.uncertainty is None and plain.uncertainty_rule.threshold == contract.DEFAULT_UNCERTAINTY_THRESHOLD == 0.5
    assert "uncertainty" not in plain.to_dict() and rule_of({}).threshold == 0.5


@pytest.fixture(scope="module")
def doubtful_model(tmp_path_factory):
    """Answers fear 35 % / neutral 30 % for every face; no uncertainty block (default 0.5)."""
    return write_standin_model(tmp_path_factory.mktemp("doubtful"), "doubtful", probabilities=BLEND)


def test_a_doubtful_face_is_reported_uncertain_with_its_two_leading_emotions(doubtful_model):
    result = Analyzer(PipelineConfig(model_path=str(doubtful_model))).analyze(real_photo("astronaut"))
    (face,) = result.faces
    assert face.uncertain and face.emotion == "fear"  # the top class is kept, marked doubtful
    assert face.label == "uncertain: fear 35% / neutral 30%"
    doc = json.loads(json.dumps(result.to_dict()))
    assert doc["faces"][0]["uncertain"] is True
    assert doc["faces"][0]["leading"] == [{"emotion": "fear", "probability": 0.35},
                                          {"emotion": "neutral", "probability": 0.3}]
    assert doc["uncertainty"] == {"rule": "top_probability_below", "threshold": 0.5}
    drawn = result.draw()
    from realtime.palette import UNCERTAIN_RGB, color_for

    assert color_for("uncertain") == UNCERTAIN_RGB != color_for("neutral")
    assert (drawn.reshape(-1, 3) == UNCERTAIN_RGB).all(axis=1).sum() > 200  # dashed box and label in slate


def test_streams_mark_the_smoothed_answer(doubtful_model):
    stream = Stream(PipelineConfig(detector="full", model_path=str(doubtful_model)))
    frame = real_photo("astronaut")
    for _ in range(3):
        (face,) = stream.process(frame).faces
    assert face.track_id == 1 and face.uncertain and face.label.startswith("uncertain: fear 35%")
