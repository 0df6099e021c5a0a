"""A photo or frame analysed and kept (a computation), with no web framework: the service every channel
and the photo-batch job use (:mod:`.service`), its settings, each user's fair share (:mod:`.shares`), its
files on disk (:mod:`.storage`), its JSON document and download names (:mod:`.documents`), its PDF
(:mod:`.pdf`) and downloads (:mod:`.downloads`)."""
