"""Arena: matches between players, ratings with error bars, SPRT, gating and the IDA meter."""
