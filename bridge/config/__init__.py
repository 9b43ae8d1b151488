"""Configuration: one TOML file, every secret optionally from the environment.

- ``bridge.config.model``: the settings tree, frozen dataclasses the rest of the code reads;
- ``bridge.config.load``: ``load_settings(path)`` / ``parse_settings(data)``, which validate a
  TOML document into that tree and fail with a ``ConfigError`` naming the key
  (``shops[birotica].upstream.token: ...``);
- ``bridge.config.sections``: the marshmallow schema of each section;
- ``bridge.config.fields``: the field types every section (and every upstream plug-in's own
  section, ``bridge.upstreams.<name>.settings``) is written with: durations, secrets that may
  come from the environment, URLs, whole numbers.

This package's ``__init__`` imports nothing on purpose: upstream plug-ins import
``bridge.config.fields`` while ``bridge.config.load`` imports the plug-ins, and neither may
have to wait for the other.
"""
