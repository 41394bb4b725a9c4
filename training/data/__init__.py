"""Data sets: Twitter-2015/2017 (JMASA), the project's JSONL ad format, ads-mini and its images."""

from training.data.errors import DatasetError, DatasetErrorCode
from training.data.examples import AspectSpan, JmasaExample
from training.data.jsonl import load_jsonl, read_records, write_jsonl
from training.data.twitter import load_twitter, load_twitter_splits

__all__ = ["AspectSpan", "JmasaExample", "DatasetError", "DatasetErrorCode", "load_jsonl", "read_records",
           "write_jsonl", "load_twitter", "load_twitter_splits"]
