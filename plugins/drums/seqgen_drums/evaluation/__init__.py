"""How well the drum models play, measured: ``groove`` (velocity and timing errors of groove models and
baselines), ``drumify`` (onset F1 and tap following of drumify models and baselines), ``fidelity`` (what drum
tracks play against real drumming). The plugin's ``evaluate_*`` commands print their tables."""
