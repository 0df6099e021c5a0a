"""Video and batch jobs analyse with the server's EMOTION_MODEL and UPLOAD_DETECTOR (issue 19: before,
``JobSettings.from_config`` never passed them, so jobs used onnx/emotion.onnx whatever was set)."""
from __future__ import annotations

import io
import json

import cv2
import pytest

import db
from db import videos
from portal.config import load_config
from portal.jobs.service import JobService
from portal.jobs.settings import JobSettings
from portal.jobs.uploads import store_batch
from realtime.research.devmodel import write_standin_model
from realtime.research.scenes import real_photo
from realtime.video_records import load_result

from .conftest import add_video, wait_for


@pytest.fixture
def standin(tmp_path_factory):
    return write_standin_model(tmp_path_factory.mktemp("m"), name="jobs-standin")


def _settings(tmp_path, database_url, env: dict) -> JobSettings:
    config = load_config(env, data_dir=tmp_path / "data", database_url=database_url, secret_key="k" * 48)
    db.init(database_url)
    return JobSettings.from_config(config)


def test_job_settings_carry_the_model_and_the_detector(tmp_path, standin):
    settings = _settings(tmp_path, str(tmp_path / "a.sqlite3"), {"EMOTION_MODEL": str(standin),
                                                                 "UPLOAD_DETECTOR": "full"})
    assert settings.model_path == str(standin) and settings.detector == "full"
    plain = _settings(tmp_path, str(tmp_path / "b.sqlite3"), {})
    assert plain.model_path is None and plain.detector is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_batch_and_a_video_record_the_configured_model(tmp_path, database_url, standin, short_video):
    settings = _settings(tmp_path, database_url, {"EMOTION_MODEL": str(standin), "UPLOAD_DETECTOR": "full"})
    with db.connection():
        owner = db.create_user("jobber", "jobber@example.org", "h").id
    png = cv2.imencode(".png", cv2.cvtColor(real_photo("astronaut"), cv2.COLOR_RGB2BGR))[1].tobytes()
    service = JobService(settings)
    try:
        batch, batch_job = store_batch(settings, owner, [("astronaut.png", io.BytesIO(png))], title="G")
        video, video_job = add_video(settings, owner, short_video)
        service.submit(batch_job.id)
        service.submit(video_job.id)
        assert wait_for(batch_job.id).status == "done"
        assert wait_for(video_job.id).status == "done"
    finally:
        service.shutdown(wait=False)
    with db.connection():
        comp = db.get_computation(owner, videos.batch_items(batch.id)[0].computation_id)
        result = load_result(settings.data_dir / videos.get_video(video.id).result_path)
    assert comp.model_version.startswith("jobs-standin")
    assert json.loads(comp.result_json)["detector"].startswith("full")
    assert result["model"]["name"].startswith("jobs-standin")
