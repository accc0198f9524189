"""schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

`POST /api/v1/plans/import` takes a plan document as `application/toml`, a text format that
schemathesis has no serializer for ("Serialization not possible"). A TOML document is UTF-8 text,
so it goes on the wire exactly like `text/plain`; the generated strings exercise the server's
TOML parsing and its error answers.
"""

import schemathesis

schemathesis.serializer.alias("application/toml", "text/plain")
