"""grader: an autograder for deep-learning homework that runs student code in a sandbox."""

from grader.rubric import Rubric, RubricError, load_rubric, load_rubrics

__version__ = "0.1.0"
__all__ = ["Rubric", "RubricError", "load_rubric", "load_rubrics", "__version__"]
