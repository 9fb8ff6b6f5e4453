"""nanobot: camera + GPIO robots on NVIDIA Jetson, as a graph of nodes linked by ZeroMQ."""

__version__ = "0.1.0"
