"""One exception tree for the whole service, each class carrying its DashScope code.

    VideoRetalkError                      500  InternalError
    ├── InvalidParameter                  400  InvalidParameter
    │   └── UnsupportedOperation          400  UnsupportedOperation  (e.g. cancel a RUNNING task)
    ├── InvalidFile                       400  InvalidFile            (input media rejected)
    │   ├── InvalidFileFormat             400  InvalidFile.Format
    │   ├── InvalidFileSize               400  InvalidFile.Size
    │   ├── InvalidFileDuration           400  InvalidFile.Duration
    │   ├── InvalidFileFPS                400  InvalidFile.FPS
    │   ├── InvalidFileResolution         400  InvalidFile.Resolution
    │   ├── InvalidFileImageSize          400  InvalidFile.ImageSize
    │   ├── InvalidFileOpenError          400  InvalidFile.Openerror
    │   ├── InvalidFileContent            400  InvalidFile.Content
    │   └── FaceNotMatch                  400  InvalidFile.FaceNotMach  (sic: DashScope's spelling)
    ├── InvalidURL                        400  InvalidURL
    │   ├── URLTimeout                    400  InvalidURL.Timeout
    │   └── URLConnectionRefused          400  InvalidURL.ConnectionRefused
    ├── InvalidApiKey                     401  InvalidApiKey
    ├── AccessDenied                      403  AccessDenied
    ├── ModelNotExist                     404  Model.NotExist
    ├── Throttling                        429  Throttling
    └── InternalError                     500  InternalError

The HTTP layer and the CLI only translate: `error.code`, `error.status` and
`str(error)` are what a client sees. Messages say what was wrong and what is allowed.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "FaceNotMatch",
    "InternalError",
    "InvalidApiKey",
    "InvalidFile",
    "InvalidFileContent",
    "InvalidFileDuration",
    "InvalidFileFPS",
    "InvalidFileFormat",
    "InvalidFileImageSize",
    "InvalidFileOpenError",
    "InvalidFileResolution",
    "InvalidFileSize",
    "InvalidParameter",
    "InvalidURL",
    "ModelNotExist",
    "Throttling",
    "URLConnectionRefused",
    "URLTimeout",
    "UnsupportedOperation",
    "VideoRetalkError",
    "error_for_code",
]


class VideoRetalkError(Exception):
    """Base of every error the service reports to a client."""

    code: str = "InternalError"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class InvalidParameter(VideoRetalkError, ValueError):
    code, status = "InvalidParameter", 400


class UnsupportedOperation(InvalidParameter):
    code = "UnsupportedOperation"


class InvalidFile(VideoRetalkError, ValueError):
    code, status = "InvalidFile", 400


class InvalidFileFormat(InvalidFile):
    code = "InvalidFile.Format"


class InvalidFileSize(InvalidFile):
    code = "InvalidFile.Size"


class InvalidFileDuration(InvalidFile):
    code = "InvalidFile.Duration"


class InvalidFileFPS(InvalidFile):
    code = "InvalidFile.FPS"


class InvalidFileResolution(InvalidFile):
    code = "InvalidFile.Resolution"


class InvalidFileImageSize(InvalidFile):
    code = "InvalidFile.ImageSize"


class InvalidFileOpenError(InvalidFile):
    code = "InvalidFile.Openerror"


class InvalidFileContent(InvalidFile):
    code = "InvalidFile.Content"


class FaceNotMatch(InvalidFile):
    code = "InvalidFile.FaceNotMach"


class InvalidURL(VideoRetalkError, ValueError):
    code, status = "InvalidURL", 400


class URLTimeout(InvalidURL):
    code = "InvalidURL.Timeout"


class URLConnectionRefused(InvalidURL):
    code = "InvalidURL.ConnectionRefused"


class InvalidApiKey(VideoRetalkError, PermissionError):
    code, status = "InvalidApiKey", 401


class AccessDenied(VideoRetalkError, PermissionError):
    code, status = "AccessDenied", 403


class ModelNotExist(VideoRetalkError, LookupError):
    code, status = "Model.NotExist", 404


class Throttling(VideoRetalkError):
    code, status = "Throttling", 429


class InternalError(VideoRetalkError, RuntimeError):
    code, status = "InternalError", 500


def _all_subclasses(cls: type[VideoRetalkError]) -> list[type[VideoRetalkError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_all_subclasses(sub))
    return found


_BY_CODE: dict[str, type[VideoRetalkError]] = {}
for _cls in _all_subclasses(VideoRetalkError):
    # The base and InternalError share a code; the named class wins.
    if _cls.code not in _BY_CODE or _cls is InternalError:
        _BY_CODE[_cls.code] = _cls


def error_for_code(code: str, message: str) -> VideoRetalkError:
    """Rebuild an error from a stored code, e.g. when a task record is read back."""
    return _BY_CODE.get(code, VideoRetalkError)(message)
