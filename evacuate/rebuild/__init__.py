"""evacuate.rebuild: carry out a RebuildPlan on the target (the `run` and `restore` verbs)."""
