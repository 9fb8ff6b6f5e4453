"""The camera errors: one base class, and one subclass per thing a caller may want to catch."""


class CameraError(RuntimeError):
    """A camera could not be opened or stopped working."""


class CameraURIError(CameraError, ValueError):
    """A camera URI or one of its options is not understood; the message lists what is."""


class CameraTimeout(CameraError, TimeoutError):
    """No new frame arrived within the time `read()` was given."""


class EndOfStream(CameraError, EOFError):
    """A finite source (a video file, an image folder) has delivered its last frame."""


class CameraClosed(CameraError):
    """The camera was closed; it delivers no more frames."""
