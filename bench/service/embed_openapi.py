#!/usr/bin/env python3
"""Copies /openapi.json into Sources/EmergenceService/API/OpenAPISpec.swift (the copy the server serves).
OpenAPITests fails when the two differ, so run this after editing openapi.json."""
import json, pathlib
root = pathlib.Path(__file__).resolve().parents[2]
text = (root / "openapi.json").read_text()
json.loads(text)  # refuse to embed invalid JSON
assert '"""#' not in text
swift = ('/// The served copy of /openapi.json (the repo root file is the one to edit; OpenAPITests fails when\n'
         '/// the two differ or when a route is missing from either). Regenerate this file from it with\n'
         '/// `python3 bench/service/embed_openapi.py`.\n'
         'enum OpenAPISpec {\n    static let bytes: [UInt8] = Array(text.utf8)\n\n    static let text = #"""\n' + text + '\n"""#\n}\n')
(root / "Sources/EmergenceService/API/OpenAPISpec.swift").write_text(swift)
