"""Settings for the whole test run (tests/ and the notebooks under nbval), made before anything imports
numvision_lib, whose folders are read from the environment when it is imported.

Everything a test or a notebook writes by default goes to scratch folders that are removed when the run ends:
notebook 03 saves what it trains in my_models/ and notebook 09 opens the class collection, and running the tests
must never replace a model a student trained or add to a class's drawings.
"""
import atexit
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Whatever the environment says: a teacher's shell may point NUMVISION_CLASS_DIR at the class's real folder.
for variable, prefix in (("NUMVISION_MY_MODELS_DIR", "numvision-my-models-"),
                         ("NUMVISION_CLASS_DIR", "numvision-class-")):
    os.environ[variable] = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, os.environ[variable], ignore_errors=True)
