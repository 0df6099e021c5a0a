"""Museum features as framework-free services (no Flask, FastAPI or Gradio): who may do what in
an organisation (:mod:`.roles`) and what the members may be shown of the visitors
(:mod:`.privacy`).  The channels (the portal's pages, the JSON API) call these and turn their
exceptions into 403/404 answers."""
