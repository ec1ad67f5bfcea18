"""The actions: what each verb does, and every decision it takes (which snapshot, whether
there is a source to reach, what a failure means). The CLI only parses arguments, calls one
action and renders its typed result.

Composite verbs are built from the simpler ones, downward only (each layer imports only the
layers below it; ``tests/unit/test_actions_layers.py`` holds the order)::

    source_gone, verify, inventory, lab     (leaves)
    snapshot                                (a host or a rescued disk into the store)
    plan, export                            (a plan from a snapshot)
    run, dry_run                            (a saved plan onto its target, or a description)
    restore                                 (plan + run, without the source)
    fleet                                   (plan or run many hosts in waves)
    rehearse                                (restore onto a throwaway target)
"""
