"""Source: where a Camera's frames come from (a GStreamer pipeline, OpenCV, images, a sim).

A Camera's reader thread is a source's only caller: open(), then grab() in a loop, close() at
the end, and open() again after a drop-out if the source is live. A new kind of source is a
subclass of Source handed to ``Camera(source)``.
"""


class Source:
    """The interface the Camera's reader thread drives."""

    #: A live source (a camera, a stream, a simulation) is reopened when it fails or ends; a
    #: finite one (a file) ends the camera at its end and fails it on an error.
    live = True

    def describe(self):
        """One line saying which backend serves this source and how (logged at open)."""
        return type(self).__name__

    def open(self):
        """Start delivering frames; raise CameraError with the reason if that is not possible."""

    def grab(self, timeout):
        """Return the next (BGR image, capture stamp in ns), or None if none came in `timeout`
        seconds. Raise EndOfStream after the last frame, CameraError (or any error) on failure."""
        raise NotImplementedError

    def close(self):
        """Stop and release the device; safe to call when not open."""
