"""Account features as framework-free services (no Flask, FastAPI or Gradio): passwords (:mod:`.passwords`),
failed-login limits (:mod:`.limits`), API tokens and their scopes (:mod:`.tokens`), deleting an account and
every file it owns (:mod:`.service`), retention (:mod:`.retention`)."""
