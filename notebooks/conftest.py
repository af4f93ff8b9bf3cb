"""nbval settings for the notebooks: TensorFlow's stderr is never compared.

TensorFlow and absl print start-up lines (oneDNN, CUDA, timestamps) to stderr that `TF_CPP_MIN_LOG_LEVEL` does
not fully silence, and Python warnings go there too. They say nothing about whether a notebook still teaches
the right thing, so stderr streams are dropped on both sides before nbval compares a checked cell; stdout and
rich outputs are still compared exactly. Errors are still failures: nbval treats them separately.
"""
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Notebook 03 saves what it trains in my_models/; under test it goes to a scratch folder instead, so that
# running the tests never replaces a model a student trained (notebook 04 then evaluates the test's model).
os.environ.setdefault("NUMVISION_MY_MODELS_DIR", tempfile.mkdtemp(prefix="numvision-my-models-"))
# Likewise notebook 09 opens the class collection: under test it is an empty scratch folder, never a class's.
os.environ.setdefault("NUMVISION_CLASS_DIR", tempfile.mkdtemp(prefix="numvision-class-"))

try:
    import nbval.plugin as _nbval
except ImportError:  # nbval not installed: nothing to configure
    _nbval = None

if _nbval is not None and not getattr(_nbval, "_numvision_ignores_stderr", False):
    _compare_streams = _nbval.transform_streams_for_comparison

    def _without_stderr(outputs):
        kept = [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        return _compare_streams(kept)

    _nbval.transform_streams_for_comparison = _without_stderr
    _nbval._numvision_ignores_stderr = True
