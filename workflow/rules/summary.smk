# What the run says at the end: a summary when it succeeds (also in results/summary.txt), the
# one message that names the problem when it fails.
import time

RUN_STARTED = time.time()


onsuccess:
    from prevalence.summary import write_summary

    text = write_summary(RESULTS, WAVES, elapsed=time.time() - RUN_STARTED)
    # `make run` prints the summary (or the failure) at its very end instead
    if os.environ.get("PREVALENCE_SUMMARY") != "later":
        print(f"\nsummary ({RESULTS}/summary.txt):\n{text}", end="", file=sys.stderr)


onerror:
    from prevalence.summary import failure_message

    message = failure_message(f"{RESULTS}/logs", since=RUN_STARTED)
    if message and os.environ.get("PREVALENCE_SUMMARY") != "later":
        print(f"\n{message}", file=sys.stderr)
