#!/usr/bin/env python3
"""DOM check of the study pages against a live server.

    check_pages.py BASE_URL [--load FIXTURE.csv] [--bootstrap N] [--study NAME] [--token TOKEN]

With --load it first creates the study (chance 0.25, 5 shots), uploads the CSV and fits it
({"seed": 1, "max_flops": 2e22}, and "bootstrap": N when given: a debug server takes minutes for
the default 1,000), waiting for the fit. Then it reads `/` and `/studies/NAME`,
parses both with html5lib in strict mode (any parse error fails: the validator), and checks that
  - the predicted FLOPs and the emergence loss on the pages equal the JSON's exactly (the
    `<data value>` elements) and are written as the page writes them (f"{x:.1e}" without '+');
  - the sentence "Capability expected at … FLOPs (5–95%: …–…)" is there;
  - both plots are <img> with alt text, there is no <script>, and each warning code has a row.
Needs html5lib (pip install html5lib). Exits 1 on the first failure, printing what differed.
"""
import argparse
import json
import sys
import time
import urllib.parse
import urllib.request

import html5lib

NS = "{http://www.w3.org/1999/xhtml}"


def fail(msg):
    print(f"check_pages: FAIL: {msg}")
    sys.exit(1)


def call(base, method, path, body=None, ctype=None, token=None):
    req = urllib.request.Request(base + path, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def flops_text(x):
    mantissa, exponent = f"{x:.1e}".split("e")
    sign = "-" if exponent.startswith("-") else ""
    return f"{mantissa}e{sign}{int(exponent.lstrip('+-'))}"


def loss_text(x):
    return f"{x:.3f}"


def load(base, study, fixture, token, bootstrap=None):
    status, _, body = call(base, "POST", "/v1/studies", json.dumps({"name": study, "chance": 0.25, "shots": 5}).encode(),
                           "application/json", token)
    if status not in (201, 409):
        fail(f"create study: {status} {body[:300]!r}")
    with open(fixture, "rb") as f:
        status, _, body = call(base, "POST", f"/v1/studies/{urllib.parse.quote(study, safe='')}/evaluations", f.read(), "text/csv", token)
    if status != 200:
        fail(f"upload: {status} {body[:300]!r}")
    options = {"seed": 1, "max_flops": 2e22}
    if bootstrap:
        options["bootstrap"] = bootstrap
    status, _, body = call(base, "POST", f"/v1/studies/{urllib.parse.quote(study, safe='')}/fits",
                           json.dumps(options).encode(), "application/json", token)
    if status not in (200, 201, 202):
        fail(f"fit: {status} {body[:300]!r}")
    fit_id = json.loads(body)["id"]
    deadline = time.time() + 600
    while time.time() < deadline:
        status, _, body = call(base, "GET", f"/v1/fits/{fit_id}", token=token)
        doc = json.loads(body)
        if doc["status"] not in ("queued", "running"):
            if doc["status"] != "succeeded":
                fail(f"fit {fit_id} ended {doc['status']}: {doc.get('error')}")
            return
        time.sleep(0.25)
    fail(f"fit {fit_id} did not finish in 600 s")


def page(base, path, token):
    status, headers, body = call(base, "GET", path, token=token)
    if status != 200:
        fail(f"GET {path}: {status}")
    if not headers.get("Content-Type", "").startswith("text/html"):
        fail(f"GET {path}: Content-Type {headers.get('Content-Type')}")
    try:
        # strict=True raises on the first parse error: the HTML validator of this check.
        doc = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(body)
    except Exception as e:  # html5lib raises ParseError with the position
        fail(f"GET {path} is not valid HTML5: {e}")
    return doc, body.decode("utf-8")


def data_values(doc):
    out = {}
    for el in doc.iter(f"{NS}data"):
        out.setdefault(el.get("data-field"), []).append((float(el.get("value")), "".join(el.itertext())))
    return out


def text_of(el):
    return "".join(el.itertext())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--study", default="mmlu")
    ap.add_argument("--load")
    ap.add_argument("--token")
    ap.add_argument("--bootstrap", type=int)
    a = ap.parse_args()
    base = a.base.rstrip("/")
    if a.load:
        load(base, a.study, a.load, a.token, a.bootstrap)
    seg = urllib.parse.quote(a.study, safe="")
    status, _, body = call(base, "GET", f"/v1/studies/{seg}/prediction", token=a.token)
    if status != 200:
        fail(f"prediction: {status} {body[:300]!r}")
    result = json.loads(body)["result"]
    flops = result["emergence"]["flops"]
    loss = result["emergence"]["loss"]
    expected = {
        "flops.mle": flops["mle"], "flops.p5": flops["percentiles"]["5"], "flops.p95": flops["percentiles"]["95"],
        "loss.mle": loss["mle"], "loss.p5": loss["percentiles"]["5"], "loss.p95": loss["percentiles"]["95"],
    }
    checked = 0
    for path, fields in ((f"/studies/{seg}", expected.keys()), ("/", ("flops.mle", "flops.p5", "flops.p95"))):
        doc, html = page(base, path, a.token)
        if doc.find(f".//{NS}script") is not None:
            fail(f"{path} has a <script>")
        values = data_values(doc)
        for field in fields:
            if field not in values:
                fail(f"{path}: no <data data-field={field}>")
            for value, text in values[field]:
                if value != expected[field]:
                    fail(f"{path}: {field} is {value!r} on the page, {expected[field]!r} in the JSON")
                want = flops_text(value) if field.startswith("flops") else loss_text(value)
                if text != want:
                    fail(f"{path}: {field} reads {text!r}, expected {want!r}")
                checked += 1
        if path != "/":
            body_text = text_of(doc.find(f".//{NS}body"))
            sentence = (f"Capability expected at {flops_text(expected['flops.mle'])} FLOPs "
                        f"(5–95%: {flops_text(expected['flops.p5'])}–{flops_text(expected['flops.p95'])})")
            if sentence not in body_text:
                fail(f"{path}: missing the sentence {sentence!r}")
            imgs = {img.get("src"): img.get("alt") for img in doc.iter(f"{NS}img")}
            for plot in ("fit.svg", "emergence-cdf.svg"):
                src = f"/v1/studies/{seg}/plots/{plot}"
                if not imgs.get(src):
                    fail(f"{path}: no <img src={src}> with alt text (have {imgs})")
            rows = {tr.get("data-warning") for tr in doc.iter(f"{NS}tr") if tr.get("data-warning")}
            codes = {w["code"] for w in result["warnings"]}
            if rows != codes:
                fail(f"{path}: warning rows {sorted(rows)} but the result has {sorted(codes)}")
        print(f"check_pages: {path}: valid HTML5; numbers equal the JSON's")
    print(f"check_pages: ok ({checked} numbers compared; FLOPs {flops_text(expected['flops.mle'])} "
          f"(5–95%: {flops_text(expected['flops.p5'])}–{flops_text(expected['flops.p95'])}), E* {loss_text(expected['loss.mle'])})")


if __name__ == "__main__":
    main()
