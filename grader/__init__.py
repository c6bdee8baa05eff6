"""grader: an autograder for deep-learning homework that runs student code in a sandbox."""

import os

# One BLAS thread: the grader's arrays are small, and idle OpenBLAS threads spin, taking the CPU
# that the sandboxes need. (Set before anything here imports numpy.)
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from grader.rubric import Rubric, RubricError, load_rubric, load_rubrics

__version__ = "0.1.0"
__all__ = ["Rubric", "RubricError", "load_rubric", "load_rubrics", "__version__"]
