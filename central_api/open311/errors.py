"""Open311's error format: a GeoReport list `[{"code": <status>, "description": "..."}]`."""

from __future__ import annotations

from fastapi.responses import JSONResponse


class Open311Error(Exception):
    """A refusal in GeoReport form: one status, one or more descriptions."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions

    def response(self) -> JSONResponse:
        return error_list(self.status, *self.descriptions)


def error_list(status: int, *descriptions: str) -> JSONResponse:
    """`[{"code": status, "description": ...}, ...]` with that HTTP status."""
    return JSONResponse([{"code": status, "description": d} for d in descriptions], status_code=status)
