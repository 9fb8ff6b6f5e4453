"""nanobot: camera + GPIO robots on NVIDIA Jetson, as a graph of nodes linked by ZeroMQ.

from nanobot import Node, Input, Output, Param
"""

from .node import Input, Node, Output, Param

__version__ = "0.1.0"
__all__ = ["Input", "Node", "Output", "Param"]
