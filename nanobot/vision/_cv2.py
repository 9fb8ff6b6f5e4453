"""OpenCV, imported when first needed: it is an extra, never a base dependency."""

_module = None


def require(purpose):
    """The cv2 module, or ImportError naming `purpose` and how to install OpenCV."""
    global _module
    if _module is None:
        try:
            import cv2
        except ImportError:
            raise ImportError(
                "%s needs OpenCV: on a Jetson use JetPack's python3-opencv; elsewhere "
                "pip install 'nanobot[opencv]'" % purpose
            ) from None
        _module = cv2
    return _module
