"""Client SDK: a sans-I/O core (``ClientCore``) and an async shell (``FulcrumClient``)."""
