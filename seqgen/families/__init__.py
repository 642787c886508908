"""seqgen's own model families, registered by :mod:`seqgen.default_plugin` like any plugin's."""
