"""URL converters of the registry's routes."""

from __future__ import annotations

import re

from django.urls import register_converter

# Characters a version label may carry as they are; anything else (and "~" itself, the
# escape) is written as ~XX per UTF-8 byte. Labels that follow the rule look the same in a
# URL, and a label stored before the rule existed ("1.0/x", "../a b?#") still gets a URL
# that routes back to it instead of breaking the page that links to it.
_PLAIN = re.compile(r"[A-Za-z0-9._+-]")
_ESCAPE = re.compile(r"~([0-9A-F]{2})")


class VersionLabelConverter:
    regex = r"[A-Za-z0-9._+~-]+"

    def to_python(self, value: str) -> str:
        raw = bytearray()
        index = 0
        while index < len(value):
            escape = _ESCAPE.match(value, index)
            if escape:
                raw.append(int(escape.group(1), 16))
                index += 3
            elif value[index] == "~":
                raise ValueError("a ~ that escapes nothing")
            else:
                raw.extend(value[index].encode())
                index += 1
        try:
            return raw.decode()
        except UnicodeDecodeError as exc:
            raise ValueError("not a UTF-8 label") from exc

    def to_url(self, value: str) -> str:
        out = []
        for index, char in enumerate(str(value)):
            # A leading dot could make "." or ".." a path segment that browsers collapse.
            if _PLAIN.fullmatch(char) and not (index == 0 and char == "."):
                out.append(char)
            else:
                out.extend(f"~{byte:02X}" for byte in char.encode())
        return "".join(out)


register_converter(VersionLabelConverter, "version")
