"""The upload handler that keeps every uploaded file within IMPORT_MAX_BYTES.

Django bounds a request's form fields (DATA_UPLOAD_MAX_MEMORY_SIZE), but an uploaded file
streams into memory or a temporary file whatever its size, and only then can a form look at
it. This handler, first in FILE_UPLOAD_HANDLERS, drops a file as soon as it passes the limit:
the rest of it is read and thrown away, so that the form's other fields (its CSRF token
too) still arrive and the form can say that the file is too large, instead of an error page.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class SizeLimitUploadHandler(FileUploadHandler):
    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.IMPORT_MAX_BYTES:
            if not hasattr(self.request, "dropped_uploads"):
                self.request.dropped_uploads = {}
            self.request.dropped_uploads[self.field_name] = self.file_name
            raise SkipFile
        return raw_data  # on to the next handler, which keeps the file

    def file_complete(self, file_size):
        return None


def dropped_upload(request, field_name: str) -> str | None:
    """The name of the file sent in `field_name` that was dropped for its size, if any."""
    return getattr(request, "dropped_uploads", {}).get(field_name)
