"""The form specification: a framework-free description of a form and the rules for its answers.

A form is plain JSON (see :mod:`.schema` for the format). This package parses it
(:func:`schema.parse`), decides which fields are shown (:mod:`.conditions`),
checks and normalises answers (:mod:`.values`, :func:`validate.validate_step`),
and converts dates to and from the Japanese calendar (:mod:`.wareki`).
No Django import here: the same rules serve the resident's form, the counter,
the API and the tests.
"""
