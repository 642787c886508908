"""Score a track: its log-likelihood under a trained model.

As Magenta's drum_track_log_likelihood: the first event is conditioned on, each later one is scored.
With --json, an object with log_likelihood, the per-step probabilities (P(event t | the events before
it) for t = 1, 2, ...) and the track's events.
"""

import json

from seqgen.commands import add_control_argument, add_model_arguments
from seqgen.errors import SeqgenError


def add_arguments(parser) -> None:
    add_model_arguments(parser)
    track = parser.add_mutually_exclusive_group()
    track.add_argument("--events", help="the track as text in the plugin's notation")
    track.add_argument("--midi", help="the track from a MIDI file")
    add_control_argument(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON object")


def run(args) -> int:
    from seqgen.loading import load_model

    if not (args.events or args.midi):
        raise SeqgenError("give the track to score with --events or --midi")
    model = load_model(args)
    config = model.config
    if args.midi:
        from seqgen.paths import check_input_file

        check_input_file(args.midi, "--midi", "MIDI file")
        events = config.tracks.primer_from_midi(args.midi, config).events
    else:
        events = config.tracks.parse_primer(args.events)
    score = model.score(events, args.control)
    log_likelihood, probabilities = score.log_likelihood, score.probabilities
    if args.json:
        print(
            json.dumps(
                {
                    "log_likelihood": log_likelihood,
                    "probabilities": probabilities,
                    "num_steps": len(events),
                    "events": config.tracks.format_events(events),
                }
            )
        )
        return 0
    print(f"log_likelihood {log_likelihood:.6f} over {len(events)} steps ({len(events) - 1} scored)")
    print("probabilities " + " ".join(f"{p:.4f}" for p in probabilities))
    return 0
