# tests/access_spec.py takes the pipeline's rows from tests/pipeline/spec.py, which builds on its helpers: loading the
# access spec first, whichever of the two is imported first, keeps that circle from breaking.
import tests.access_spec  # noqa: F401
