"""``seqgen.load``: one way to get a trained model from wherever it lives.

A source is a shipped model's name (e.g. ``drum_kit_gmd``), a ``.seqgen`` bundle, a Magenta ``.mag``
bundle, a training run directory (its latest checkpoint) or one checkpoint of a run (``R/train/ckpt-N``).
Bundles and shipped models load without TensorFlow; run dirs and checkpoints need it.
"""

import os

from seqgen.errors import SeqgenError
from seqgen.model import Model


def shipped_models() -> dict:
    """``{name: bundle path}`` of the pretrained models installed plugins ship (name: the file's stem)."""
    from seqgen import plugins

    found = {}
    for config in plugins.configs().values():
        for path in config.pretrained:
            found[os.path.splitext(os.path.basename(path))[0]] = path
    return found


def default_config(config_id: str = None, plugin: str = None):
    """The config whose shipped model a command uses when given no model: ``config_id``'s, else the one
    config that ships a model (or is marked ``default`` among several)."""
    from seqgen import plugins

    if config_id:
        configs = [plugins.get_config(config_id, plugin)]
    else:
        configs = [c for c in plugins.configs().values() if c.pretrained]
        if len(configs) > 1:
            configs = [c for c in configs if c.default] or configs
    shipped = [c for c in configs if c.pretrained]
    if len(shipped) == 1:
        return shipped[0]
    if len(shipped) > 1:
        raise SeqgenError(f"several configs ship a pretrained model ({', '.join(sorted(c.id for c in shipped))}); "
                          f"choose one with --config")
    which = f"config {config_id!r} ships none" if config_id else "no installed config ships one"
    raise SeqgenError(f"no model given, and {which} pretrained; pass --bundle_file, --run_dir or "
                      f"--checkpoint_file")


def _is_checkpoint(path: str) -> bool:
    return os.path.isfile(path + ".index") or path.endswith(".index")


def load(source) -> Model:
    """The model at ``source``; SeqgenError saying what was expected when it is none of the known kinds."""
    from seqgen import bundle, run_dir

    source = os.fspath(source)
    shipped = shipped_models()
    if source in shipped and not os.path.exists(source):
        loaded = bundle.load(shipped[source])
        return Model(loaded.config, loaded.weights, loaded.description, source)
    if os.path.isdir(source):
        config, weights = run_dir.load_weights(run_dir=source)
        return Model(config, weights, "", source)
    if _is_checkpoint(source):
        config, weights = run_dir.load_weights(checkpoint_file=source)
        return Model(config, weights, "", source)
    if os.path.isfile(source):
        loaded = bundle.load(source)
        return Model(loaded.config, loaded.weights, loaded.description, source)
    raise SeqgenError(f"{source} does not exist; give a bundle file, a run directory, a checkpoint or a shipped "
                      f"model's name ({', '.join(sorted(shipped)) or 'none installed'})")
