"""hal: the hardware abstraction (GPIO, I2C, cameras, devices) with real and simulated backends.

It imports nothing else of the project, so it can be used on its own.
"""
