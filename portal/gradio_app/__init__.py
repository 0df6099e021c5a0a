"""The Gradio interface at ``/app``: Blocks layout (:mod:`.blocks`), event functions (:mod:`.events`),
the guard that refuses anonymous requests (:mod:`.guard`), settings (:mod:`.settings`), downloads
(:mod:`.report`) and the portal-style header (:mod:`.header`)."""
