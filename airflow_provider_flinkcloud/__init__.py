"""Apache Airflow provider for Apache Flink jobs on managed platforms."""

__version__ = "0.1.0"
