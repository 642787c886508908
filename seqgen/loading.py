"""``seqgen.load``: one way to get a trained model from wherever it lives.

A source is a shipped model's name (e.g. ``drum_kit_gmd``), a ``.seqgen`` bundle, a Magenta ``.mag``
bundle, a training run directory (its latest checkpoint) or one checkpoint of a run (``R/train/ckpt-N``).
Bundles and shipped models load without TensorFlow; run dirs and checkpoints need it. An adapted bundle
(``seqgen adapt``) loads its base model and adds its adapters to the base's weights.
"""

import os

from seqgen.errors import SeqgenError
from seqgen.model import GuidanceBase, Model


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
        raise SeqgenError(
            f"several configs ship a pretrained model ({', '.join(sorted(c.id for c in shipped))}); "
            f"choose one with --config"
        )
    which = f"config {config_id!r} ships none" if config_id else "no installed config ships one"
    raise SeqgenError(f"no model given, and {which} pretrained; pass --bundle_file, --run_dir or --checkpoint_file")


def _is_checkpoint(path: str) -> bool:
    from seqgen.run_dir import checkpoint_prefix

    return checkpoint_prefix(path) != path or os.path.isfile(path + ".index")


def load(source) -> Model:
    """The model at ``source``; SeqgenError saying what was expected when it is none of the known kinds."""
    from seqgen import bundle, run_dir

    source = os.fspath(source)
    shipped = shipped_models()
    path = shipped[source] if source in shipped and not os.path.exists(source) else source
    if path in shipped.values():
        _check_shipped_file(path)
        return _from_bundle(bundle.load(path), source)
    if os.path.isdir(source):
        config, weights = run_dir.load_weights(run_dir=source)
        return Model(config, weights, "", source)
    if _is_checkpoint(source):
        config, weights = run_dir.load_weights(checkpoint_file=source)
        return Model(config, weights, "", source)
    if os.path.isfile(source):
        return _from_bundle(bundle.load(source), source)
    raise SeqgenError(
        f"{source} does not exist; give a bundle file, a run directory, a checkpoint or a shipped "
        f"model's name ({', '.join(sorted(shipped)) or 'none installed'})"
    )


def _from_bundle(loaded, source) -> Model:
    """The Model of a loaded bundle; an adapted one's weights are its base's with the adapters added."""
    from seqgen import bundle

    base = GuidanceBase(loaded.guidance_base, load) if loaded.guidance_base else None
    if loaded.adapter is None:
        from seqgen.calibration import from_manifest

        calibration = None if loaded.calibration is None else from_manifest(loaded.calibration, loaded.config, source)
        return Model(loaded.config, loaded.weights, loaded.description, source, base, calibration)
    base_source = loaded.adapter["base"]
    again = "put the base back, or adapt again with --from a model you have"
    if base_source not in shipped_models() and not os.path.exists(base_source):
        raise SeqgenError(f"{source} is adapted from the model {base_source}, which is missing; {again}")
    try:
        base = load(base_source)
    except SeqgenError as error:
        raise SeqgenError(
            f"{source} is adapted from the model {base_source}, which cannot be loaded ({error}); {again}"
        ) from None
    if bundle.weights_checksum(base.weights) != loaded.adapter["base_sha256"] or base.config.id != loaded.config.id:
        raise SeqgenError(
            f"{source} is adapted from the model {base_source}, but the {base_source} here is a "
            f"different model (its weights' checksum differs); {again}"
        )
    weights = bundle.merge_adapters(base.weights, loaded.weights, source)
    return Model(loaded.config, weights, loaded.description, source)


def _check_shipped_file(path: str) -> None:
    """A shipped model's file is there, or SeqgenError naming it and the distribution to reinstall."""
    if os.path.isfile(path):
        return
    from seqgen import plugins

    owner = next(config.plugin for config in plugins.configs().values() if path in config.pretrained)
    raise SeqgenError(
        f"the shipped model file {path} is missing from the installed {owner} plugin; reinstall it: "
        f"pip install --force-reinstall {plugins.distribution(owner)}"
    )


def check_model_flags(args) -> None:
    """--bundle_file, --run_dir and --checkpoint_file each name the kind of thing they say."""
    if args.bundle_file and os.path.isdir(args.bundle_file):
        raise SeqgenError(
            f"--bundle_file {args.bundle_file} is a directory; give a bundle file (.seqgen or .mag) "
            f"or a shipped model's name (a training run goes with --run_dir)"
        )
    if args.run_dir and not os.path.isdir(args.run_dir):
        what = "is a file, not a run directory" if os.path.exists(args.run_dir) else "does not exist"
        raise SeqgenError(
            f"--run_dir {args.run_dir} {what}; give the --run_dir that seqgen train wrote (a bundle "
            f"goes with --bundle_file)"
        )
    if args.checkpoint_file:
        path = str(args.checkpoint_file)
        if os.path.isdir(path):
            raise SeqgenError(
                f"--checkpoint_file {path} is a directory; give one checkpoint such as "
                f"RUN_DIR/train/ckpt-100 (a whole run goes with --run_dir)"
            )
        from seqgen.run_dir import check_checkpoint

        check_checkpoint(path)


def load_model(args):
    """The :class:`seqgen.model.Model` that a command's parsed flags name (``args.bundle_file``, ``run_dir``,
    ``checkpoint_file``, ``config``, ``plugin``, ``hparams``): the shipped default when they name none."""
    given = [flag for flag in ("bundle_file", "run_dir", "checkpoint_file") if getattr(args, flag)]
    if len(given) > 1:
        raise SeqgenError(f"give only one of --{' and --'.join(given)}")
    if getattr(args, "hparams", ""):
        raise SeqgenError("--hparams cannot change a trained model; the bundle or run dir records its own")
    check_model_flags(args)
    source = args.bundle_file or args.run_dir or args.checkpoint_file
    model = load(source or default_config(args.config, args.plugin).default_bundle)
    if args.config and args.config != model.config.id:
        raise SeqgenError(
            f"the model is a {model.config.id} model, not {args.config}; drop --config or pass another model"
        )
    return model


def guidance_base(name):
    """The anchor ``--guidance_base NAME`` asks for (:mod:`seqgen.guidance`): None when not given (a bundle's own
    base), False for ``none`` (no anchor), else the model it names, loaded."""
    if not name:
        return None
    return False if name == "none" else load(name)
