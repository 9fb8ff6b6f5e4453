"""The sorting robot: a camera watches items on a belt, a detector classifies them, and
diverters push each item into the bin for its class. `python -m apps.sorter` runs it on a
Jetson with real hardware or, unchanged, against the simulated cell of sims.conveyor."""
