#!/usr/bin/env python3
"""schema_check.py SCHEMA FILE... - validate stats JSON files against the
schema in docs/stats.schema.json.

Uses the jsonschema module when it is installed (Debian: python3-jsonschema),
and always also the small validator below, which knows the keywords the
schema is written with (type, properties, required, additionalProperties,
items, enum, minimum, $ref), so the check runs where jsonschema is missing.
Prints "PASS name" / "FAIL name: why" lines for tests/lib.sh's tap_from;
with --expect-invalid a file must be rejected instead."""
import json
import sys

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}
KNOWN = {"$schema", "$id", "title", "description", "type", "properties", "required",
         "additionalProperties", "items", "enum", "minimum", "$ref", "$defs"}


def resolve(root, ref):
    assert ref.startswith("#/"), ref
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def check(root, schema, v, path, errors):
    if schema is True:
        return
    if schema is False:
        errors.append("%s: not allowed" % path)
        return
    unknown = set(schema) - KNOWN
    if unknown:
        errors.append("%s: schema uses unsupported keywords %s" % (path, sorted(unknown)))
    if "$ref" in schema:
        check(root, resolve(root, schema["$ref"]), v, path, errors)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](v) for t in types):
            errors.append("%s: %r is not of type %s" % (path, v, "/".join(types)))
            return
    if "enum" in schema and v not in schema["enum"]:
        errors.append("%s: %r not one of %r" % (path, v, schema["enum"]))
    if "minimum" in schema and TYPES["number"](v) and v < schema["minimum"]:
        errors.append("%s: %r below %r" % (path, v, schema["minimum"]))
    if isinstance(v, dict):
        for k in schema.get("required", []):
            if k not in v:
                errors.append("%s: missing %s" % (path, k))
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, x in v.items():
            if k in props:
                check(root, props[k], x, path + "." + k, errors)
            else:
                check(root, extra, x, path + "." + k, errors)
    if isinstance(v, list) and "items" in schema:
        for i, x in enumerate(v):
            check(root, schema["items"], x, "%s[%d]" % (path, i), errors)


def main():
    args = sys.argv[1:]
    expect_invalid = args and args[0] == "--expect-invalid"
    if expect_invalid:
        args = args[1:]
    schema = json.load(open(args[0]))
    try:
        import jsonschema
        validator = jsonschema.Draft202012Validator(schema)
        jsonschema.Draft202012Validator.check_schema(schema)
    except ImportError:
        validator = None
        print("DIAG jsonschema module not installed: the built-in validator only")
    for f in args[1:]:
        name = f.rsplit("/", 1)[-1]
        try:
            doc = json.load(open(f))
        except Exception as e:
            print("FAIL %s: not JSON (%s)" % (name, e))
            continue
        checks = [("built-in validator", None)]
        if validator is not None:
            checks.append(("jsonschema module", validator))
        for label, val in checks:
            if val is None:
                errors = []
                check(schema, schema, doc, "$", errors)
            else:
                errors = ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message)
                          for e in val.iter_errors(doc)]
            good = (not errors) != bool(expect_invalid)
            what = "rejected" if expect_invalid else "valid"
            print("%s %s %s (%s)%s" % ("PASS" if good else "FAIL", name, what, label,
                                       "" if good or expect_invalid else ": " + "; ".join(errors[:3])))


main()
