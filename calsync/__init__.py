"""calsync: training plans for people who lift and ride, in their calendar."""

__version__ = "0.1.0"
