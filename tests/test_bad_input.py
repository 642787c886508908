"""Every command, every flag: a bad value gets one line on stderr, a non-zero exit code, and nothing the
user had is changed; on the toy plugin (toy_plugin.py).

Each case runs ``seqgen.cli.main`` in-process (a few run ``python -m seqgen`` in a subprocess) in a folder
holding sentinel files; bad_input_checks.py says what the placeholders of a case stand for. The cases of the
drums' own readers (MIDI primers, infilling drums) are in plugins/drums/tests/test_drums_bad_input.py.
"""

import subprocess
import sys

import pytest

from bad_input_checks import argv, check, places, run_in_process, snapshot, write_inputs
from support import installed_plugin

TINY = "batch_size=2,rnn_layer_sizes=[8],attn_length=2"
MODEL = "--bundle_file {bundle}"
GEN = f"generate {MODEL} --output_dir {{out}} --num_outputs 2 --num_steps 16"
SCORE = f"score {MODEL}"
TRAIN = (
    f"train --config toy_rnn --hparams {TINY} --run_dir {{new}} --sequence_example_file {{records}} "
    "--num_training_steps 1"
)
EVAL = f"evaluate {MODEL} --sequence_example_file {{records}}"
DATASET = "create_dataset --config toy_rnn --input {notesequences} --output_dir {new}"
CONVERT = "convert --input_dir {midi_dir} --output_file {new}/ns.tfrecord"
IMPORT = "import_bundle --mag_file {mag} --bundle_file {new}/m.seqgen"
RENDER = "render {song} --output_dir {new}"
# What reading a MIDI file says when the plugin has no primer_from_midi (infill, score and vary take no text).
NO_MIDI = r"toy_rnn cannot read MIDI files: its plugin's Tracks does not implement primer_from_midi$"
HPARAMS = "configs --config toy_rnn --hparams"
SONG = f"song {MODEL} --output_dir {{out}}"
VARY = f"vary {{song}} {MODEL} --output_dir {{out}}"
ADAPT = "adapt {song} --from {bundle} --bundle_file {new}/a.seqgen"
CALIBRATE = "calibrate --from {bundle} --sequence_example_file {records} --bundle_file {new}/c.seqgen"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, toy):
    """The files and folders the cases read (compared before and after each case, like the outputs): the model is a
    small toy_rnn with attention (random weights), the records toy tracks."""
    from seqgen import bundle, plugins, run_dir
    from seqgen.families.events_rnn.inference import random_weights

    root = tmp_path_factory.mktemp("inputs")
    config = plugins.get_config("toy_rnn").with_hparams(TINY)
    bundle.save(root / "model.seqgen", config, random_weights(config))
    write_inputs(root, (root / "model.seqgen").read_bytes(), [0, 1, 2, 3, 0, 0, 1, 2])
    run_dir.save_run(root / "run", config)
    return root


# (id, command line, what the one line must say). The id names the flag and the kind of bad value.
CASES = [
    # argparse: no command, unknown command or flag, a flag's value of the wrong kind
    ("no-command", "", r"required: COMMAND"),
    ("unknown-command", "fly", r"invalid choice: 'fly'"),
    ("unknown-flag", "plugins --bogus", r"unrecognized arguments: --bogus"),
    ("plugins-json-value", "plugins --json=yes", r"--json: ignored explicit argument"),
    # configs and --hparams strings
    ("configs-unknown-config", "configs --config nope", r"unknown config 'nope'.*toy_rnn"),
    ("configs-unknown-plugin", "configs --plugin nope", r"plugin 'nope'"),
    ("hparams-wrong-type", f"{HPARAMS} batch_size=x", r"batch_size expects an integer"),
    ("hparams-float-for-int", f"{HPARAMS} batch_size=1.5", r"batch_size expects an integer"),
    ("hparams-zero", f"{HPARAMS} batch_size=0", r"batch_size must be positive"),
    ("hparams-negative", f"{HPARAMS} batch_size=-1", r"batch_size must be positive"),
    ("hparams-huge", f"{HPARAMS} batch_size=99999999999999999999", r"batch_size expects an integer"),
    ("hparams-nan", f"{HPARAMS} learning_rate=nan", r"learning_rate expects a finite number"),
    ("hparams-inf", f"{HPARAMS} learning_rate=inf", r"learning_rate expects a finite number"),
    ("hparams-negative-float", f"{HPARAMS} clip_norm=-3", r"clip_norm must be positive"),
    ("hparams-empty-list", f"{HPARAMS} rnn_layer_sizes=[]", r"rnn_layer_sizes must be a non-empty list"),
    ("hparams-zero-size", f"{HPARAMS} rnn_layer_sizes=[64,0]", r"rnn_layer_sizes must be a non-empty list"),
    ("hparams-list-of-floats", f"{HPARAMS} rnn_layer_sizes=[6.5]", r"rnn_layer_sizes expects a list of integers"),
    ("hparams-probability", f"{HPARAMS} dropout_keep_prob=1.5", r"dropout_keep_prob must be in \(0, 1\]"),
    ("hparams-probability-nan", f"{HPARAMS} dropout_keep_prob=nan", r"dropout_keep_prob expects a finite"),
    (
        "hparams-negative-length",
        f"{HPARAMS} attn_length=-1",
        r"attn_length must be a whole number from 0 to 4096, got -1",
    ),
    ("hparams-unknown", f"{HPARAMS} nope=1", r"unknown hparam 'nope'; valid names: batch_size"),
    ("hparams-no-value", f"{HPARAMS} batch_size", r"malformed --hparams part 'batch_size': expected name=value"),
    ("hparams-unclosed", f"{HPARAMS} rnn_layer_sizes=[64", r"unclosed '\['"),
    ("hparams-all-configs", "configs --hparams batch_size=x", r"batch_size expects an integer"),
    # convert
    (
        "convert-input-missing",
        "convert --input_dir {missing} --output_file {new}/ns.tfrecord",
        r"--input_dir .*missing.mid does not exist",
    ),
    (
        "convert-input-is-file",
        "convert --input_dir {song} --output_file {new}/ns.tfrecord",
        r"--input_dir .*song.mid is a file, not a directory",
    ),
    (
        "convert-input-empty-dir",
        "convert --input_dir {empty_dir} --output_file {new}/ns.tfrecord",
        r"no MIDI files \(.mid, .midi\) in",
    ),
    (
        "convert-only-unreadable",
        "convert --input_dir {bad_midi_dir} --output_file {new}/ns.tfrecord",
        r"none of the 3 MIDI files in .*bad_midi_dir could be read",
    ),
    (
        "convert-output-exists",
        "convert --input_dir {midi_dir} --output_file {file}",
        r"keep.txt already exists; pass --overwrite",
    ),
    (
        "convert-output-is-dir",
        "convert --input_dir {midi_dir} --output_file {out} --overwrite",
        r"--output_file .*out is a directory; give a file name",
    ),
    (
        "convert-output-under-file",
        "convert --input_dir {midi_dir} --output_file {under_file}/ns.tfrecord",
        r"cannot write --output_file .*keep.txt/sub/ns.tfrecord: .*keep.txt is a file, not a directory",
    ),
    (
        "convert-output-read-only",
        "convert --input_dir {midi_dir} --output_file {readonly}/ns.tfrecord",
        r"cannot write --output_file .*seqgen_test/ns.tfrecord: .*; choose a writable place",
    ),
    # create_dataset
    (
        "dataset-input-missing",
        "create_dataset --config toy_rnn --input {missing} --output_dir {new}",
        r"--input .*missing.mid does not exist",
    ),
    (
        "dataset-input-is-dir",
        "create_dataset --config toy_rnn --input {midi_dir} --output_dir {new}",
        r"--input .*midi_dir is a directory; give a TFRecord file of NoteSequences",
    ),
    (
        "dataset-input-is-midi",
        "create_dataset --config toy_rnn --input {song} --output_dir {new}",
        r"song.mid is not a TFRecord file.*seqgen convert",
    ),
    (
        "dataset-input-empty",
        "create_dataset --config toy_rnn --input {empty} --output_dir {new}",
        r"empty holds no NoteSequences",
    ),
    (
        "dataset-input-truncated",
        "create_dataset --config toy_rnn --input {truncated_records} --output_dir {new}",
        r"truncated.tfrecord is not a TFRecord file or is truncated",
    ),
    (
        "dataset-input-class-records",
        "create_dataset --config toy_rnn --input {records} --output_dir {new}",
        r"train.tfrecord holds training records, not NoteSequences",
    ),
    (
        "dataset-output-exists",
        "create_dataset --config toy_rnn --input {notesequences} --output_dir {out}",
        r"training_toy_tracks.tfrecord already exists; pass --overwrite",
    ),
    (
        "dataset-output-is-file",
        "create_dataset --config toy_rnn --input {notesequences} --output_dir {file}",
        r"--output_dir .*keep.txt is a file; give a directory",
    ),
    (
        "dataset-output-under-file",
        f"{DATASET}".replace("{new}", "{under_file}"),
        r"--output_dir .*keep.txt/sub.*keep.txt is a file, not a directory",
    ),
    (
        "dataset-output-read-only",
        "create_dataset --config toy_rnn --input {notesequences} --output_dir {readonly}",
        r"cannot create --output_dir .*seqgen_test: .*choose a writable place",
    ),
    ("dataset-eval-ratio-nan", f"{DATASET} --eval_ratio nan", r"--eval_ratio: expected a number in \[0, 1\)"),
    ("dataset-eval-ratio-inf", f"{DATASET} --eval_ratio inf", r"--eval_ratio: expected a number in \[0, 1\)"),
    ("dataset-eval-ratio-negative", f"{DATASET} --eval_ratio -0.1", r"--eval_ratio: expected a number in"),
    ("dataset-eval-ratio-one", f"{DATASET} --eval_ratio 1", r"--eval_ratio: expected a number in \[0, 1\)"),
    ("dataset-eval-ratio-text", f"{DATASET} --eval_ratio x", r"--eval_ratio: expected a number in \[0, 1\)"),
    ("dataset-seed-text", f"{DATASET} --seed x", r"--seed: expected a non-negative integer, got 'x'"),
    ("dataset-seed-negative", f"{DATASET} --seed -1", r"--seed: expected a non-negative integer, got '-1'"),
    ("dataset-split-csv-missing", f"{DATASET} --split_csv {{missing}}", r"--split_csv .*missing.mid"),
    ("dataset-split-csv-is-midi", f"{DATASET} --split_csv {{song}}", r"--split_csv .*song.mid.*'midi_filename'"),
    ("dataset-split-csv-empty", f"{DATASET} --split_csv {{empty}}", r"--split_csv .*empty lacks the column"),
    ("dataset-split-csv-is-dir", f"{DATASET} --split_csv {{midi_dir}}", r"--split_csv .*midi_dir.*directory"),
    ("dataset-unknown-runner", f"{DATASET} --runner Bogus", r"--runner Bogus is not a Beam runner .*DirectRunner"),
    (
        "dataset-beam-options-unbalanced",
        f"{DATASET} --runner DirectRunner --beam_options='--project=\"P'",
        r"--beam_options .* cannot be split into options \(No closing quotation\); quote it",
    ),
    (
        "dataset-unknown-config",
        "create_dataset --config nope --input {notesequences} --output_dir {new}",
        r"unknown config 'nope'",
    ),
    ("dataset-bad-hparams", f"{DATASET} --hparams batch_size=0", r"batch_size must be positive"),
    # train
    (
        "train-run-dir-is-file",
        f"{TRAIN}".replace("{new}", "{file}"),
        r"--run_dir .*keep.txt is a file; give a directory",
    ),
    (
        "train-run-dir-under-file",
        f"{TRAIN}".replace("{new}", "{under_file}"),
        r"--run_dir .*keep.txt/sub.*keep.txt is a file, not a directory",
    ),
    (
        "train-run-dir-read-only",
        f"{TRAIN}".replace("{new}", "{readonly}"),
        r"cannot create --run_dir .*seqgen_test: .*choose a writable place",
    ),
    ("train-records-are-midi", f"{TRAIN}".replace("{records}", "{song}"), r"song.mid is not a TFRecord file"),
    ("train-records-are-text", f"{TRAIN}".replace("{records}", "{text}"), r"notes.txt is not a TFRecord file"),
    ("train-records-are-a-bundle", f"{TRAIN}".replace("{records}", "{bundle}"), r"model.seqgen is not a TFRecord"),
    (
        "train-records-empty",
        f"{TRAIN}".replace("{records}", "{empty}"),
        r"no records in .*empty \(empty record files\); give training records",
    ),
    (
        "train-records-truncated",
        f"{TRAIN}".replace("{records}", "{truncated_records}"),
        r"truncated.tfrecord is not a TFRecord file or is truncated",
    ),
    (
        "train-records-of-notesequences",
        f"{TRAIN}".replace("{records}", "{notesequences}"),
        r"ns.tfrecord holds no training examples.*with `seqgen create_dataset`",
    ),
    ("train-records-are-a-dir", f"{TRAIN}".replace("{records}", "{midi_dir}"), r"no record file matches"),
    (
        "train-records-of-another-config",
        f"{TRAIN}".replace("{records}", "{wide_records}"),
        r"holds class 17, but the config has only 4 classes",
    ),
    ("train-steps-negative", f"{TRAIN} --num_training_steps -1", r"--num_training_steps: expected a non-negative"),
    ("train-steps-text", f"{TRAIN} --num_training_steps x", r"--num_training_steps: expected a non-negative"),
    ("train-steps-float", f"{TRAIN} --num_training_steps 1.5", r"--num_training_steps: expected a non-negative"),
    ("train-summary-zero", f"{TRAIN} --summary_frequency 0", r"--summary_frequency: expected a positive integer"),
    ("train-secs-nan", f"{TRAIN} --save_checkpoint_secs nan", r"--save_checkpoint_secs: expected a non-negative"),
    ("train-secs-inf", f"{TRAIN} --save_checkpoint_secs inf", r"--save_checkpoint_secs: expected a non-negative"),
    ("train-secs-negative", f"{TRAIN} --save_checkpoint_secs -1", r"--save_checkpoint_secs: expected a non-"),
    ("train-ckpt-steps-negative", f"{TRAIN} --save_checkpoint_steps -1", r"--save_checkpoint_steps: expected"),
    ("train-num-checkpoints-negative", f"{TRAIN} --num_checkpoints -1", r"--num_checkpoints: expected a non-"),
    ("train-seed-text", f"{TRAIN} --seed x", r"--seed: expected a non-negative integer"),
    ("train-seed-negative", f"{TRAIN} --seed -1", r"--seed: expected a non-negative integer"),
    ("train-micro-batch-negative", f"{TRAIN} --micro_batch_size -1", r"--micro_batch_size: expected a non-neg"),
    ("train-eval-examples-negative", f"{TRAIN} --eval --num_eval_examples -1", r"--num_eval_examples: expected"),
    ("train-eval-timeout-nan", f"{TRAIN} --eval --eval_timeout_secs nan", r"--eval_timeout_secs: expected"),
    ("train-eval-timeout-inf", f"{TRAIN} --eval --eval_timeout_secs inf", r"--eval_timeout_secs: expected"),
    ("train-bad-hparams", f"{TRAIN} --hparams batch_size=0", r"batch_size must be positive"),
    ("train-no-config", "train --run_dir {new} --sequence_example_file {records}", r"--config is required"),
    (
        "train-another-architecture",
        "train --config toy_rnn --run_dir {run} --sequence_example_file {records}",
        r"was trained with another architecture",
    ),
    # evaluate
    ("evaluate-records-are-midi", f"{EVAL}".replace("{records}", "{song}"), r"song.mid is not a TFRecord file"),
    (
        "evaluate-records-empty",
        f"{EVAL}".replace("{records}", "{empty}"),
        r"no records in .*empty \(empty record files\); give training records",
    ),
    (
        "evaluate-records-truncated",
        f"{EVAL}".replace("{records}", "{truncated_records}"),
        r"truncated.tfrecord is not a TFRecord file or is truncated",
    ),
    (
        "evaluate-unigram-from-midi",
        "evaluate --config toy_rnn --sequence_example_file {records} --unigram_from {song}",
        r"song.mid is not a TFRecord file",
    ),
    (
        "evaluate-untrained-no-config",
        "evaluate --untrained --sequence_example_file {records}",
        r"--untrained needs --config",
    ),
    ("evaluate-seed-negative", f"{EVAL} --seed -1", r"--seed: expected a non-negative integer"),
    ("evaluate-hparams-on-a-bundle", f"{EVAL} --hparams batch_size=2", r"--hparams cannot change a trained model"),
    ("evaluate-config-mismatch", f"{EVAL} --config toy_transformer", r"is a toy_rnn model, not toy_transformer"),
    # models given to generate, score and evaluate
    (
        "bundle-is-text",
        f"{GEN}".replace("{bundle}", "{text}"),
        r"notes.txt is not a valid seqgen bundle \(not a zip archive.*give a .seqgen file",
    ),
    (
        "bundle-is-midi",
        f"{GEN}".replace("{bundle}", "{song}"),
        r"song.mid is a MIDI file, not a valid seqgen bundle \(a MIDI primer goes with --primer_midi\)",
    ),
    (
        "bundle-is-records",
        f"{SCORE} --events [1]".replace("{bundle}", "{records}"),
        r"train.tfrecord is not a valid seqgen bundle",
    ),
    ("bundle-empty", f"{GEN}".replace("{bundle}", "{empty}"), r"empty is empty, not a valid seqgen bundle"),
    (
        "bundle-truncated",
        f"{GEN}".replace("{bundle}", "{truncated_bundle}"),
        r"truncated.seqgen is not a valid seqgen bundle \(not a zip archive: truncated",
    ),
    (
        "bundle-is-dir",
        f"{GEN}".replace("{bundle}", "{midi_dir}"),
        r"--bundle_file .*midi_dir is a directory; give a bundle file",
    ),
    ("bundle-missing", f"{GEN}".replace("{bundle}", "{missing}"), r"missing.mid does not exist"),
    ("mag-is-text", f"{GEN}".replace("{bundle}", "{text_mag}"), r"text.mag"),
    ("mag-truncated", f"{GEN}".replace("{bundle}", "{truncated_mag}"), r"truncated.mag"),
    (
        "run-dir-is-file",
        f"{GEN}".replace("--bundle_file {bundle}", "--run_dir {file}"),
        r"--run_dir .*keep.txt is a file, not a run directory",
    ),
    (
        "run-dir-without-run",
        f"{GEN}".replace("--bundle_file {bundle}", "--run_dir {empty_dir}"),
        r"empty_dir is not a training run directory",
    ),
    (
        "run-dir-without-checkpoint",
        f"{EVAL}".replace("--bundle_file {bundle}", "--run_dir {run}"),
        r"holds no checkpoint yet; train first",
    ),
    (
        "checkpoint-is-text",
        f"{SCORE} --events [1]".replace("--bundle_file {bundle}", "--checkpoint_file {text}"),
        r"no checkpoint .*notes.txt \(expected .*notes.txt.index\)",
    ),
    (
        "checkpoint-is-dir",
        f"{GEN}".replace("--bundle_file {bundle}", "--checkpoint_file {run}"),
        r"--checkpoint_file .*run is a directory",
    ),
    ("two-models", f"{GEN} --run_dir {{run}}", r"give only one of --bundle_file and --run_dir"),
    # generate
    ("generate-output-is-file", f"{GEN}".replace("{out}", "{file}"), r"--output_dir .*keep.txt is a file"),
    (
        "generate-output-under-file",
        f"{GEN}".replace("{out}", "{under_file}"),
        r"cannot create --output_dir .*keep.txt/sub: .*keep.txt is a file, not a directory",
    ),
    (
        "generate-output-read-only",
        f"{GEN}".replace("{out}", "{readonly}"),
        r"cannot create --output_dir .*seqgen_test: .*choose a writable place",
    ),
    ("generate-outputs-zero", f"{GEN} --num_outputs 0", r"--num_outputs: expected a positive integer, got '0'"),
    ("generate-outputs-nan", f"{GEN} --num_outputs nan", r"--num_outputs: expected a positive integer"),
    ("generate-outputs-huge", f"{GEN} --num_outputs 1000000000", r"--num_outputs: expected at most"),
    ("generate-steps-negative", f"{GEN} --num_steps -3", r"--num_steps: expected a positive integer"),
    ("generate-steps-huge", f"{GEN} --num_steps 1000000000", r"--num_steps: expected at most"),
    ("generate-temperature-nan", f"{GEN} --temperature nan", r"--temperature: expected a positive number"),
    ("generate-temperature-inf", f"{GEN} --temperature inf", r"--temperature: expected a positive number"),
    ("generate-temperature-zero", f"{GEN} --temperature 0", r"--temperature: expected a positive number"),
    ("generate-qpm-nan", f"{GEN} --qpm nan", r"--qpm: expected a positive number"),
    ("generate-qpm-negative", f"{GEN} --qpm -120", r"--qpm: expected a positive number"),
    ("generate-beam-zero", f"{GEN} --beam_size 0", r"--beam_size: expected a positive integer"),
    ("generate-branch-zero", f"{GEN} --branch_factor 0", r"--branch_factor: expected a positive integer"),
    ("generate-iteration-zero", f"{GEN} --steps_per_iteration 0", r"--steps_per_iteration: expected a positive"),
    ("generate-seed-negative", f"{GEN} --seed -5", r"--seed: expected a non-negative integer below 2\*\*63, got '-5'"),
    ("generate-seed-float", f"{GEN} --seed 1.5", r"--seed: expected a non-negative integer"),
    ("generate-primer-empty", f"{GEN} --primer ''", r"malformed toy primer ''"),
    ("generate-primer-unclosed", f"{GEN} --primer '[1,'", r"malformed toy primer"),
    ("generate-primer-event", f"{GEN} --primer '[1, 9]'", r"a toy event is a number of onsets from 0 to 3, not 9"),
    ("generate-primer-empty-list", f"{GEN} --primer '[]'", r"malformed toy primer '\[\]': expected a list"),
    ("generate-primer-deep", f"{GEN} --primer '{'[' * 5000}{']' * 5000}'", r"malformed toy primer"),
    (
        "generate-primer-longer-than-steps",
        f"{GEN} --primer '[{'1,' * 20}]'",
        r"--num_steps 16 is shorter than the primer \(20 steps\)",
    ),
    (
        "generate-primer-midi-unreadable",
        f"{GEN} --primer_midi {{song}}",
        r"toy_rnn cannot read MIDI files \(its plugin's Tracks does not implement primer_from_midi\); give the primer "
        r"as text with --primer",
    ),
    ("generate-primer-midi-missing", f"{GEN} --primer_midi {{missing}}", r"missing.mid does not exist"),
    ("generate-primer-midi-is-dir", f"{GEN} --primer_midi {{midi_dir}}", r"midi_dir is a directory"),
    ("generate-primer-bars-zero", f"{GEN} --primer_midi {{song}} --primer_bars 0", r"--primer_bars: expected a pos"),
    ("generate-primer-bars-text", f"{GEN} --primer_midi {{song}} --primer_bars x", r"--primer_bars: expected a pos"),
    ("generate-primer-bars-alone", f"{GEN} --primer_bars 2", r"--primer_bars needs --primer_midi"),
    (
        "generate-save-bundle-exists",
        "generate --save_generator_bundle --run_dir {run} --bundle_file {file}",
        r"keep.txt already exists; choose another --bundle_file",
    ),
    (
        "generate-save-bundle-alone",
        "generate --save_generator_bundle --bundle_file {new}/m.seqgen",
        r"--save_generator_bundle writes --bundle_file from --run_dir or --checkpoint_file",
    ),
    ("generate-soundfont-missing", f"{GEN} --render --soundfont {{missing}}", r"soundfont .*missing.mid does not"),
    ("generate-soundfont-is-text", f"{GEN} --render --soundfont {{text}}", r"notes.txt is not a SoundFont"),
    # score
    ("score-nothing", f"{SCORE}", r"give the track to score with --events or --midi"),
    ("score-events-malformed", f"{SCORE} --events '[1,'", r"malformed toy primer"),
    ("score-events-empty", f"{SCORE} --events '[]'", r"malformed toy primer '\[\]'"),
    ("score-events-and-midi", f"{SCORE} --events [1] --midi {{song}}", r"not allowed with argument"),
    ("score-midi-unreadable", f"{SCORE} --midi {{song}}", NO_MIDI),
    ("score-midi-is-dir", f"{SCORE} --midi {{midi_dir}}", r"midi_dir is a directory"),
    # infill (what the plugin cannot read is said before anything is written)
    ("infill-midi-missing", f"infill {{missing}} {MODEL} --output_dir {{out}} --bars 2", r"missing.mid does not exist"),
    ("infill-midi-is-dir", f"infill {{midi_dir}} {MODEL} --output_dir {{out}} --bars 2", r"midi_dir is a directory"),
    ("infill-midi-unreadable", f"infill {{song}} {MODEL} --output_dir {{out}} --bars 2", NO_MIDI),
    # song (the toy model has no controls and cannot fill in the middle)
    ("song-form-empty", f"{SONG} --form ''", r"--form is empty; write sections as name:bars"),
    ("song-form-zero-bars", f"{SONG} --form 'intro:2 verse:0'", r"section 'verse:0' must last a whole number of bars"),
    ("song-form-no-length", f"{SONG} --form 'intro:2 verse'", r"section 'verse' has no length in bars"),
    ("song-form-bars-text", f"{SONG} --form 'verse:eight'", r"section 'verse:eight' must last a whole number"),
    ("song-form-unknown-option", f"{SONG} --form 'verse:8:loud'", r"unknown option 'loud'; the options are new"),
    ("song-form-vary-outside", f"{SONG} --form 'verse:8 verse:8:vary=2'", r"vary must be a number from 0 to 1"),
    ("song-form-too-long", f"{SONG} --form 'verse:1000 chorus:25'", r"1025 bars in all, more than 1024"),
    (
        "song-control-other-section",
        f"{SONG} --form 'verse:2' --control bridge:density=3",
        r"--control names section 'bridge', which is not in the form; its sections are verse",
    ),
    ("song-control-malformed", f"{SONG} --form 'verse:2' --control verse:density", r"malformed at 'density'"),
    (
        "song-control-twice",
        f"{SONG} --form 'verse:2' --control verse:a=1 --control verse:a=2",
        r"--control gives a twice for section verse",
    ),
    ("song-control-without", f"{SONG} --form 'verse:2' --control verse:density=3", r"this model takes no controls"),
    ("song-fills-without", f"{SONG} --form 'verse:2 chorus:2' --fills yes", r"--fills yes needs a model with fills"),
    ("song-fills-value", f"{SONG} --form 'verse:2' --fills maybe", r"--fills: invalid choice: 'maybe'"),
    (
        "song-variation-without",
        f"{SONG} --form 'verse:2 chorus:2 verse:2' --variation 0.5",
        r"--variation needs a model that can fill in the middle",
    ),
    ("song-variation-outside", f"{SONG} --form 'verse:2' --variation 1.5", r"--variation: expected a number from 0"),
    (
        "song-output-is-file",
        f"{SONG} --form 'verse:2'".replace("{out}", "{file}"),
        r"--output_dir .*keep.txt is a file",
    ),
    # loops
    ("generate-loop-bars-zero", f"{GEN} --loop_bars 0", r"--loop_bars: expected a positive integer, got '0'"),
    ("generate-loop-bars-past-limit", f"{GEN} --loop_bars 5", r"--loop_bars 5 is past this model's limit of 4 bars"),
    ("generate-loop-repeats-alone", f"{GEN} --loop_repeats 2", r"--loop_repeats repeats a loop; add --loop_bars"),
    ("generate-loop-repeats-zero", f"{GEN} --loop_bars 2 --loop_repeats 0", r"--loop_repeats: expected a positive"),
    ("generate-loop-beam", f"{GEN} --loop_bars 2 --beam_size 2", r"--loop_bars samples its loops"),
    # vary
    ("vary-amount-outside", f"{VARY} --amount 1.5", r"--amount: expected a number from 0 to 1, got '1.5'"),
    ("vary-amount-negative", f"{VARY} --amount -0.1", r"--amount: expected a number from 0 to 1"),
    ("vary-amount-nan", f"{VARY} --amount nan", r"--amount: expected a number from 0 to 1"),
    ("vary-midi-missing", f"{VARY}".replace("{song}", "{missing}"), r"missing.mid does not exist"),
    ("vary-midi-unreadable", f"{VARY}", NO_MIDI),
    # import_bundle
    ("import-mag-is-text", f"{IMPORT}".replace("{mag}", "{text}"), r"notes.txt"),
    ("import-mag-is-midi", f"{IMPORT}".replace("{mag}", "{song}"), r"song.mid"),
    ("import-mag-is-seqgen", f"{IMPORT}".replace("{mag}", "{bundle}"), r"model.seqgen"),
    ("import-mag-empty", f"{IMPORT}".replace("{mag}", "{empty}"), r"empty"),
    ("import-mag-truncated", f"{IMPORT}".replace("{mag}", "{truncated_mag}"), r"truncated.mag"),
    ("import-mag-missing", f"{IMPORT}".replace("{mag}", "{missing}"), r"missing.mid does not exist"),
    ("import-mag-is-dir", f"{IMPORT}".replace("{mag}", "{midi_dir}"), r"midi_dir is a directory"),
    ("import-bundle-exists", "import_bundle --mag_file {mag} --bundle_file {file}", r"keep.txt already exists"),
    ("import-bundle-is-dir", "import_bundle --mag_file {mag} --bundle_file {out}", r"out is a directory"),
    (
        "import-bundle-under-file",
        "import_bundle --mag_file {mag} --bundle_file {under_file}/m.seqgen",
        r"cannot write --bundle_file .*keep.txt is a file, not a directory",
    ),
    (
        "import-bundle-read-only",
        "import_bundle --mag_file {mag} --bundle_file {readonly}/m.seqgen",
        r"cannot write --bundle_file .*seqgen_test/m.seqgen: .*choose a writable place",
    ),
    # adapt (tests/test_adapt.py has the rest: no tracks, a base that cannot be adapted, the base as output)
    ("adapt-midi-missing", f"{ADAPT}".replace("{song}", "{missing}"), r"missing.mid does not exist"),
    ("adapt-midi-is-text", f"{ADAPT}".replace("{song}", "{text}"), r"notes.txt is not a MIDI file"),
    ("adapt-dir-without-midi", f"{ADAPT}".replace("{song}", "{empty_dir}"), r"no MIDI files .* in .*empty_dir"),
    ("adapt-unknown-base", "adapt {song} --from nope --bundle_file {new}/a.seqgen", r"nope does not exist"),
    ("adapt-base-is-midi", "adapt {song} --from {song} --bundle_file {new}/a.seqgen", r"is a MIDI file, not"),
    ("adapt-base-not-adaptable", ADAPT, r"a model of the events_rnn family, which names no weights to adapt"),
    ("adapt-minutes-zero", f"{ADAPT} --minutes 0", r"--minutes: expected a positive number"),
    ("adapt-minutes-nan", f"{ADAPT} --minutes nan", r"--minutes: expected a positive number"),
    ("adapt-output-exists", f"{ADAPT}".replace("{new}/a.seqgen", "{out}/keep.txt"), r"keep.txt already exists"),
    ("adapt-output-read-only", f"{ADAPT}".replace("{new}", "{readonly}"), r"cannot write --bundle_file"),
    # calibrate
    ("calibrate-unknown-model", f"{CALIBRATE}".replace("{bundle}", "nope"), r"nope does not exist"),
    ("calibrate-records-are-midi", f"{CALIBRATE}".replace("{records}", "{song}"), r"song.mid is not a TFRecord file"),
    (
        "calibrate-records-of-another-config",
        f"{CALIBRATE}".replace("{records}", "{wide_records}"),
        r"holds class 17, but the config has only 4 classes",
    ),
    (
        "calibrate-midi-missing",
        f"{CALIBRATE}".replace("--sequence_example_file {records}", "--midi {missing}"),
        r"missing.mid does not exist",
    ),
    (
        "calibrate-midi-is-text",
        f"{CALIBRATE}".replace("--sequence_example_file {records}", "--midi {text}"),
        r"notes.txt is not a MIDI file",
    ),
    ("calibrate-midi-and-records", f"{CALIBRATE} --midi {{song}}", r"argument --midi: not allowed with argument"),
    ("calibrate-rounds-zero", f"{CALIBRATE} --rounds 0", r"--rounds: expected a positive integer, got '0'"),
    ("calibrate-steps-short", f"{CALIBRATE} --num_steps 20", r"--num_steps must hold two bars \(32 steps\) or more"),
    (
        "calibrate-unknown-control",
        f"{CALIBRATE} --controls style",
        r"toy_rnn takes no control style \(its controls: none\); fix --controls",
    ),
    ("calibrate-min-tracks-zero", f"{CALIBRATE} --min_tracks 0", r"--min_tracks: expected a positive integer, got '0'"),
    (
        "calibrate-output-exists",
        f"{CALIBRATE}".replace("{new}/c.seqgen", "{out}/keep.txt"),
        r"keep.txt already exists; choose another --bundle_file",
    ),
    ("calibrate-output-read-only", f"{CALIBRATE}".replace("{new}", "{readonly}"), r"cannot write --bundle_file"),
    # render
    ("render-midi-is-text", "render {text} --output_dir {new}", r"notes.txt: not a valid MIDI file"),
    ("render-midi-empty", "render {empty} --output_dir {new}", r"empty: not a valid MIDI file"),
    ("render-midi-truncated", "render {truncated_mid} --output_dir {new}", r"truncated.mid: not a valid MIDI"),
    ("render-midi-is-bundle", "render {bundle} --output_dir {new}", r"model.seqgen: not a valid MIDI file"),
    ("render-midi-missing", "render {missing} --output_dir {new}", r"MIDI file .*missing.mid does not exist"),
    ("render-midi-is-dir", "render {midi_dir} --output_dir {new}", r"midi_dir is a directory"),
    ("render-output-exists", "render {song} --output_dir {out}", r"song.wav already exists; pass --overwrite"),
    ("render-output-is-file", f"{RENDER}".replace("{new}", "{file}"), r"--output_dir .*keep.txt is a file"),
    (
        "render-output-under-file",
        f"{RENDER}".replace("{new}", "{under_file}"),
        r"cannot create --output_dir .*keep.txt is a file, not a directory",
    ),
    (
        "render-output-read-only",
        f"{RENDER}".replace("{new}", "{readonly}"),
        r"cannot create --output_dir .*seqgen_test: .*choose a writable place",
    ),
    ("render-rate-zero", f"{RENDER} --sample_rate 0", r"--sample_rate: expected a sample rate"),
    ("render-rate-huge", f"{RENDER} --sample_rate 100000000", r"--sample_rate: expected a sample rate"),
    ("render-rate-nan", f"{RENDER} --sample_rate nan", r"--sample_rate: expected a sample rate"),
    ("render-soundfont-is-text", f"{RENDER} --soundfont {{text}}", r"notes.txt is not a SoundFont"),
    ("render-soundfont-is-dir", f"{RENDER} --soundfont {{midi_dir}}", r"soundfont .*midi_dir"),
    ("render-unknown-config", f"{RENDER} --config nope", r"unknown config 'nope'"),
    # live (MIDI ports: plugins/drums/tests/test_drums_live.py, through a JACK server)
    ("live-bpm-high", f"live {MODEL} --bpm 401", r"--bpm: expected a tempo from 20 to 400 beats per minute"),
    ("live-bpm-low", f"live {MODEL} --bpm 10", r"--bpm: expected a tempo from 20 to 400 beats per minute"),
    ("live-osc-port-zero", f"live {MODEL} --osc 127.0.0.1:0", r"--osc: expected a port from 1 to 65535"),
    ("live-osc-no-port", f"live {MODEL} --osc localhost", r"--osc: expected HOST:PORT"),
    (
        "live-osc-host",
        f"live {MODEL} --osc no-such-host.invalid:9000",
        r"--osc host 'no-such-host.invalid' does "
        r"not resolve",
    ),
    (
        "live-cc-no-control",
        f"live {MODEL} --osc 127.0.0.1:9 --cc density=1",
        r"--cc maps 'density', which this model has no control of; its controls are: none",
    ),
    ("live-control-none", f"live {MODEL} --osc 127.0.0.1:9 --control density=4", r"this model takes no controls"),
    ("live-save-exists", f"live {MODEL} --osc 127.0.0.1:9 --save_midi {{song}}", r"--save_midi .* already exists"),
    ("live-midi-in-alone", f"live {MODEL} --osc 127.0.0.1:9 --midi_in x", r"--midi_in is the port --cc reads"),
]


@pytest.mark.parametrize("command,expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_and_changes_nothing(command, expected, inputs, tmp_path, capsys, monkeypatch):
    run_in_process(command, expected, inputs, tmp_path, capsys, monkeypatch)


SUBPROCESS_CASES = [
    "generate-seed-negative",
    "train-records-are-midi",
    "import-mag-is-text",
    "render-rate-huge",
    "dataset-input-is-midi",
    "dataset-unknown-runner",
]


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_bad_input_through_the_installed_command(case, inputs, tmp_path):
    command, expected = next(c[1:] for c in CASES if c[0] == case)
    work = tmp_path / "work"
    work.mkdir()
    found = places(inputs, work)
    before = snapshot(inputs, work)
    result = subprocess.run(
        [sys.executable, "-m", "seqgen", *argv(command, found)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        env=installed_plugin(tmp_path, "toy"),
    )
    check(result.returncode, result.stderr, expected, before, snapshot(inputs, work))


def test_every_command_has_cases():
    from seqgen.commands import builtin_commands

    covered = {case[1].split()[0] for case in CASES if case[1]}
    assert {command.name for command in builtin_commands()} - {"studio"} <= covered
