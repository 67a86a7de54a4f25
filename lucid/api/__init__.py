"""The REST management API: FastAPI routes over `lucid.resources.Resources`.

Routes stay thin on purpose: every rule lives in the models and in `Resources`, so a write
over REST is checked exactly like one from `lucid apply`. This package only turns HTTP into
those calls and LucidErrors back into HTTP (status codes live here and nowhere else).
`create_app` builds a fresh application from its arguments; nothing is built at import.
"""
