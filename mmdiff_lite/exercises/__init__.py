"""The course's exercises and their checkers (``mm.exercises.check(id, answer)``); one module per notebook."""
from .base import EXERCISES, KINDS, Exercise, Result, check, exercise, load_exercises

__all__ = ["EXERCISES", "KINDS", "Exercise", "Result", "check", "exercise", "load_exercises"]

load_exercises()
