"""The Gradio interface at ``/app`` (a channel: UI only, over the features): :mod:`.mount` (what run.py
calls), the Blocks layout (:mod:`.blocks`), what the tabs show (:mod:`.events`), Record and "attach to an
exhibit" (:mod:`.record`), the guard that refuses anonymous requests (:mod:`.guard`), per-user quotas,
the webcam input, Gradio's private temp folder (:mod:`.tempfiles`) and the portal-style header
(:mod:`.header`)."""
