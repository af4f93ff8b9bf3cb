"""nbval settings for the notebooks: TensorFlow's stderr is never compared.

TensorFlow and absl print start-up lines (oneDNN, CUDA, timestamps) to stderr that `TF_CPP_MIN_LOG_LEVEL` does
not fully silence, and Python warnings go there too. They say nothing about whether a notebook still teaches
the right thing, so stderr streams are dropped on both sides before nbval compares a checked cell; stdout and
rich outputs are still compared exactly. Errors are still failures: nbval treats them separately.

(The scratch folders that notebooks 03 and 09 write into are set for the whole run in the project's conftest.py.)
"""
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
