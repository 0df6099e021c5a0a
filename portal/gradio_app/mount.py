"""Mount the Gradio interface on the server root at ``/app`` (run.py wires it with what it needs).

    mount(root, config, settings, who=auth_dependency(flask_app), epoch=token_epoch,
          flask_app=flask_app, recorder=recorder)

``who(request) -> user id or None`` reads the portal's login from the request (the portal's session
cookie); Gradio's event handlers then see the user's id as ``int(request.username)``.  Every route
under the prefix (API, uploads, queue, assets) sits behind :class:`.guard.RequireUser`: 401 for
anonymous requests, or a redirect to the login page for page navigations; uploads and webcam
streams have each user's share (:mod:`.upload_quota`, :mod:`.stream_quota`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import gradio as gr

from portal.analyses.settings import AnalysisSettings
from portal.gradio_app import blocks
from portal.gradio_app.guard import CachedUserLookup, RequireUser
from portal.gradio_app.stream_quota import StreamQuota
from portal.gradio_app.upload_quota import UploadQuota

log = logging.getLogger(__name__)
PREFIX = "/app"


def mount(root, config, settings: AnalysisSettings, who: Callable, epoch: Callable[[], int],
          flask_app=None, recorder=None, prefix: str = PREFIX) -> gr.Blocks:
    interface = blocks.build_blocks(config, flask_app, settings=settings, recorder=recorder)
    # webcam streams check ~20 times/s; a log-out anywhere in this process empties the cache
    user_id = CachedUserLookup(who, epoch=epoch)
    gr.mount_gradio_app(root, interface, path=prefix, auth_dependency=user_id,
                        **blocks.mount_options(settings, config.data_dir))
    root.add_middleware(UploadQuota, path=f"{prefix}/gradio_api/upload", user_id=user_id,
                        max_body=settings.max_upload_bytes + 65536, per_minute=settings.upload_requests_per_minute)
    root.add_middleware(StreamQuota, prefix=prefix, user_id=user_id, blocks=interface,
                        concurrency_id=blocks.WEBCAM_CONCURRENCY_ID, per_user=settings.streams_per_user)
    root.add_middleware(RequireUser, prefix=prefix, user_id=user_id)
    log.info("real-time app mounted at %s (upload detector %s, live detector %s)",
             prefix, settings.upload_detector, settings.live_detector)
    return interface
