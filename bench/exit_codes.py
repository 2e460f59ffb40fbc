"""Exit codes every command shares (README): 0 nothing fails, 1 a requirement or check fails, 2 an input cannot be
read, 3 the bench could not judge (never a pass), 130 interrupted."""

EXIT_FAILED = 1
EXIT_UNREADABLE = 2
EXIT_BENCH_ERROR = 3
EXIT_INTERRUPTED = 130
