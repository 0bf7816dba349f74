"""Summary statistics shared by the benchmark scripts."""
import statistics


def p99(values):
    """The 99th percentile, interpolated between samples (statistics.quantiles,
    inclusive method: the samples are the whole population measured)."""
    return statistics.quantiles(values, n=100, method="inclusive")[98]
