"""Magenta ``.mag`` generator bundles: a GeneratorBundle protobuf holding a TF V1 checkpoint.

Magenta stores no hparams: the config's model family reads them from the weights and the metagraph
(``ModelFamily.hparams_from_weights``). Everything is read with NumPy and protobuf alone
(:mod:`seqgen.v1_checkpoint`): neither TensorFlow nor note-seq is imported.
"""

import os
import types

import attrs

from seqgen import v1_checkpoint
from seqgen.errors import SeqgenError


# magenta/protobuf/generator.proto (note_seq.protobuf.generator_pb2), with its public field numbers
_MESSAGES = v1_checkpoint.message_classes(
    "seqgen/magenta_generator.proto",
    "seqgen.magenta",
    {
        "GeneratorDetails": [("id", 1, "string"), ("description", 2, "string")],
        "BundleDetails": [("description", 1, "string")],
        "GeneratorBundle": [
            ("generator_details", 1, "GeneratorDetails"),
            ("checkpoint_file", 2, "bytes", "repeated"),
            ("metagraph_file", 3, "bytes"),
            ("bundle_details", 4, "BundleDetails"),
        ],
    },
)
GeneratorBundle = _MESSAGES["GeneratorBundle"]


def _generator_pb2():
    """A stand-in for ``note_seq.protobuf.generator_pb2``: what writes a ``.mag`` needs (tests do)."""
    return types.SimpleNamespace(GeneratorBundle=GeneratorBundle, GeneratorDetails=_MESSAGES["GeneratorDetails"])


def _other_kind(data: bytes):
    """What a file that is clearly not a ``.mag`` is, with what to do; None when it may be one."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return (
            "a zip archive (a .seqgen bundle renamed?), not a Magenta .mag bundle; give it a .seqgen "
            "name and pass it as --bundle_file"
        )
    if data.startswith(b"MThd"):
        return "a MIDI file, not a Magenta .mag bundle; pass a .mag file exported by Magenta"
    return None


def parse_bundle(data: bytes, path) -> "GeneratorBundle":
    """The GeneratorBundle message in ``data`` (the bytes of ``path``); SeqgenError when it is not one."""
    other = _other_kind(data)
    if other:
        raise SeqgenError(f"{path} is {other}")
    bundle = None
    try:
        bundle = v1_checkpoint.parse(GeneratorBundle, data, "the bundle")
    except SeqgenError:
        pass
    if bundle is None or not bundle.generator_details.id or len(bundle.checkpoint_file) != 1:
        raise SeqgenError(
            f"{path} is not a valid Magenta .mag bundle (truncated, corrupted or another kind "
            f"of file); download or export it again"
        )
    return bundle


def _checkpoint_weights(data: bytes, path) -> dict:
    try:
        return v1_checkpoint.read_checkpoint(data)
    except v1_checkpoint.CheckpointError as error:
        raise SeqgenError(
            f"the checkpoint inside {path} is truncated or corrupted: {error}; download or export the bundle again"
        ) from None


def load_bytes(data: bytes, path):
    """(config, weights, description) of the ``.mag`` bytes ``data`` read from ``path``."""
    from seqgen import plugins

    bundle = parse_bundle(data, path)
    config_id = bundle.generator_details.id
    if config_id not in plugins.configs():
        raise SeqgenError(
            f"Magenta bundle {path} is for generator {config_id!r}, which no installed seqgen "
            f"plugin provides (known configs: {', '.join(sorted(plugins.configs())) or 'none'})"
        )
    config = plugins.get_config(config_id)
    weights = _checkpoint_weights(bundle.checkpoint_file[0], path)
    # Magenta stores no hparams: the config's family reads its architecture from the weights and metagraph.
    hparams = config.family.hparams_from_weights(weights, config.hparams, bundle.metagraph_file or None, path)
    description = bundle.bundle_details.description or bundle.generator_details.description
    return attrs.evolve(config, hparams=hparams), weights, description


def load(path):
    """(config, weights, description) of a ``.mag`` file, for an installed plugin's config."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        raise SeqgenError(f"cannot read Magenta bundle {path}: {error.strerror}") from None
    return load_bytes(data, os.fspath(path))
