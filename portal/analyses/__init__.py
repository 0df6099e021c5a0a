"""What the portal, the Gradio interface and the API all need about one computation:
its files on disk (:mod:`.storage`), its JSON document and download names (:mod:`.documents`),
its PDF (:mod:`.pdf`).  No web framework here."""
