"""The production request line is one JSON object a log pipeline can parse, whatever the path holds."""

from __future__ import annotations

import json
import logging

from api.core.logging import JsonFormatter, request_id


def _record(name: str, path: str) -> logging.LogRecord:
    return logging.makeLogRecord({"name": name, "msg": "request", "levelno": logging.INFO, "levelname": "INFO",
                                  "method": "GET", "path": path, "status": 404, "ms": 3.25, "client": "10.0.0.7",
                                  "created": 1796212800.5, "msecs": 500.0})


def test_the_request_line_is_json_with_its_request_id_even_for_a_hostile_path():
    path = '/verify/"}, "status": 200, "x": "\\\n\u2028é'
    token = request_id.set("support-case-9")
    try:
        line = JsonFormatter().format(_record("cadre.request", path))
        general = json.loads(JsonFormatter().format(_record("cadre.elsewhere", path)))
    finally:
        request_id.reset(token)
    assert "\n" not in line
    data = json.loads(line)
    assert data == {**general, "logger": "cadre.request"}
    assert data["path"] == path and data["status"] == 404 and data["request_id"] == "support-case-9"
    assert data["ts"] == "2026-12-02T12:00:00.500Z"


def test_without_a_request_the_line_names_none():
    data = json.loads(JsonFormatter().format(_record("cadre.request", "/")))
    assert "request_id" not in data and data["ms"] == 3.25


def test_the_written_request_line_is_the_formatted_one(monkeypatch):
    """log_request writes straight to the configured stream: the same line the formatter makes of a record."""
    import io
    import sys

    from api.core import logging as cadre_logging

    for human in (False, True):
        out = io.StringIO()
        monkeypatch.setattr(sys, "stderr", out)
        cadre_logging.configure(human=human)
        token = request_id.set("rid-42")
        try:
            cadre_logging.log_request({"method": "POST", "path": '/x"y', "client": ("10.0.0.8", 5)}, 201, 0.0)
        finally:
            request_id.reset(token)
        line = out.getvalue()
        assert line.count("\n") == 1 and line.endswith("\n")
        if human:
            assert line.rstrip().split(" ", 1)[1].startswith('POST /x"y 201 ')
        else:
            data = json.loads(line)
            assert (data["method"], data["path"], data["status"], data["client"], data["request_id"]) == (
                "POST", '/x"y', 201, "10.0.0.8", "rid-42")
    monkeypatch.undo()
    cadre_logging.configure()
