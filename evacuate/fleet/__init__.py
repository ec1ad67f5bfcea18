"""Fleets: many sources moved in evacuate.yml's waves, each host by its own single-host plan
and run (and journal), at most a wave's concurrency at once.

Modules: :mod:`.model` (waves, the hosts chosen, per-host results), :mod:`.board` (the live
state of each host, for the fleet view) and :mod:`.scheduler` (runs the waves: failure
isolation within a wave, gating between waves).
"""
